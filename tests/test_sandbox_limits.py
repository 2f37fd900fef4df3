"""grader.runner.sandbox.limits alone, in a forked child: resource.getrlimit reads back what was set."""

from __future__ import annotations

import sys

import pytest

from grader.runner import sandbox
from grader.runner.sandbox import libc as native, limits
from helpers import run_forked

resource = pytest.importorskip("resource")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmSize comes from /proc (Linux)")

POLICY = sandbox.Policy(readable=(), scratch="/", memory_bytes=512 << 20, cpu_seconds=7, max_file_bytes=1 << 20)
NAMES = ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")


def current():
    return {name: list(resource.getrlimit(getattr(resource, name))) for name in NAMES}


def test_apply_rlimits_reads_back():
    before = current()
    if any(hard != resource.RLIM_INFINITY for name, (_, hard) in before.items() if name != "RLIMIT_NOFILE"):
        pytest.skip(f"this process already has finite hard limits: {before}")
    mapped = {}

    def setup():
        status = native.read_status()
        mapped["bytes"] = int(status["VmSize"].split()[0]) * 1024
        limits.apply_rlimits(POLICY, status, True)

    report = run_forked(setup, [("limits", current), ("mapped", lambda: mapped["bytes"]),
                                ("big_alloc", lambda: len(bytearray(1 << 30)))])
    assert report["enter"][0] == "ok", report["enter"]
    got, cap = report["limits"][1], report["mapped"][1] + POLICY.memory_bytes
    assert got["RLIMIT_AS"] == [cap, cap]
    assert got["RLIMIT_CPU"] == [7, 8]  # SIGXCPU at 7 s, SIGKILL at 8 s
    assert got["RLIMIT_FSIZE"] == [1 << 20, 1 << 20]
    nofile_hard = before["RLIMIT_NOFILE"][1]
    expected_nofile = limits.NOFILE if nofile_hard == resource.RLIM_INFINITY else min(limits.NOFILE, nofile_hard)
    assert got["RLIMIT_NOFILE"] == [expected_nofile, expected_nofile]
    assert got["RLIMIT_CORE"] == [0, 0]
    assert report["big_alloc"][:2] == ["error", "MemoryError"]  # 1 GB on top of what is mapped > 512 MB allowed
    assert current() == before  # the parent is untouched


def test_without_memory_limit_address_space_is_left_alone():
    before = current()["RLIMIT_AS"]
    report = run_forked(lambda: limits.apply_rlimits(POLICY, native.read_status(), False), [("limits", current)])
    assert report["enter"][0] == "ok", report["enter"]
    assert report["limits"][1]["RLIMIT_AS"] == before
    assert report["limits"][1]["RLIMIT_CPU"] == [7, 8]


def test_lower_never_raises_the_hard_limit():
    def setup():
        resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))
        limits.lower(resource.RLIMIT_NOFILE, limits.NOFILE)  # 256 asked, 100 allowed
        resource.setrlimit(resource.RLIMIT_CPU, (50, 60))
        limits.lower(resource.RLIMIT_CPU, 55, 70)

    report = run_forked(setup, [("limits", current)])
    assert report["enter"][0] == "ok", report["enter"]
    assert report["limits"][1]["RLIMIT_NOFILE"] == [100, 100]
    assert report["limits"][1]["RLIMIT_CPU"] == [55, 60]
