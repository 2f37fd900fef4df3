"""grader.runner.sandbox.credentials alone, in a forked child: /proc/self/status shows uid 65534, no capabilities."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

import pytest

from grader.runner import lifeline
from grader.runner.sandbox import credentials, libc as native
from helpers import run_forked

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="credentials are dropped on Linux only")

NOBODY = 65534


def status_fields():
    """Straight from the kernel, not through the module under test."""
    with open("/proc/self/status") as handle:
        fields = dict(line.rstrip("\n").split(":", 1) for line in handle if ":" in line)
    return {key: fields[key].split() for key in ("Uid", "Gid", "Groups", "CapEff", "CapPrm", "CapInh", "CapAmb",
                                                 "CapBnd")}


def pdeathsig():
    value = ctypes.c_int(-1)
    native.prctl(native.libc(), native.PR_GET_PDEATHSIG, ctypes.byref(value))
    return value.value


def test_drop_reads_back(prepared):
    if not prepared.layers.setuid:
        pytest.skip(f"no privilege drop here: {prepared.layers.missing}")
    before = status_fields()
    assert before["Uid"] == ["0"] * 4 and int(before["CapEff"][0], 16) != 0  # there is something to drop

    def setup():
        lifeline.die_with_parent()  # as the zygote's child does; the drop must not lose it
        credentials.drop_privileges(prepared.libc, NOBODY, NOBODY, prepared.cap_last_cap, prepared.can_drop_bounding)

    report = run_forked(setup, [("status", status_fields), ("pdeathsig", pdeathsig),
                                ("setuid_back", lambda: os.setuid(0))])
    assert report["enter"][0] == "ok", report["enter"]
    status = report["status"][1]
    assert status["Uid"] == [str(NOBODY)] * 4  # real, effective, saved, filesystem
    assert status["Gid"] == [str(NOBODY)] * 4
    assert status["Groups"] == []
    for name in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert int(status[name][0], 16) == 0, (name, status[name])
    assert prepared.can_drop_bounding  # root with CAP_SETPCAP, as setuid implies here
    assert int(status["CapBnd"][0], 16) == 0, status["CapBnd"]
    assert report["pdeathsig"] == ["ok", int(signal.SIGKILL)]
    assert report["setuid_back"][:2] == ["error", "PermissionError"]


def test_can_drop_names_the_reason(tmp_path):
    if os.geteuid() != 0:
        ok, why = credentials.can_drop({native.CAP_SETUID, native.CAP_SETGID}, True, ())
        assert not ok and why.startswith("not running as root")
        return
    assert credentials.can_drop({native.CAP_SETUID, native.CAP_SETGID}, True, ()) == (True, "")
    ok, why = credentials.can_drop({native.CAP_SETUID}, True, ())
    assert (ok, why) == (False, "root without CAP_SETUID/CAP_SETGID: the child cannot drop to an unprivileged uid")
    private = tmp_path / "private.txt"
    private.write_text("x")
    private.chmod(0o600)
    os.chmod(tmp_path, 0o755)
    ok, why = credentials.can_drop({native.CAP_SETUID, native.CAP_SETGID}, True, (str(private),))
    assert (ok, why) == (False, f"{private} is not readable by uid 65534: the child stays root")


def test_uid_map_and_cap_last_cap():
    assert credentials.uid_mapped(os.getuid())
    if os.path.exists("/proc/self/uid_map"):
        assert not credentials.uid_mapped(2**32 - 1)  # (uid_t) -1 is never mapped, not even in the initial namespace
    with open("/proc/sys/kernel/cap_last_cap") as handle:
        assert credentials.cap_last_cap() == int(handle.read())
