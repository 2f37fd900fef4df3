"""grader.runner.sandbox.memory on real children: past the cgroup's cap the kernel kills, below it nothing happens."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from grader.runner import sandbox
from grader.runner.sandbox import memory
from helpers import fill_files, run_forked_until_death, touch_anonymous

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memory cgroups are Linux-only")


def policy_for(course, cgroup, **overrides):
    # RLIMIT_AS and the scratch tmpfs far above the cgroup's 128 MiB: only the cgroup can stop these children.
    fields = dict(readable=(course["submission"],), scratch=course["scratch"], memory_bytes=4 << 30, cpu_seconds=20,
                  cgroup=cgroup, scratch_bytes=1 << 30)
    fields.update(overrides)
    return sandbox.Policy(**fields)


def member_of():
    with open("/proc/self/cgroup") as handle:
        return [line.strip() for line in handle if ":memory:" in line or line.startswith("0::")]


def run(prepared, policy, probes):
    return run_forked_until_death(lambda: sandbox.enter(prepared, policy), probes)


@pytest.mark.parametrize("what", ["anonymous", "scratch_files"])
def test_over_the_cap_the_child_is_killed(prepared, sandbox_course, memory_cgroups, what):
    path = memory_cgroups.paths[0]
    before = memory_cgroups.oom_kills(path)
    if what == "anonymous":
        probe = lambda: touch_anonymous(300)  # noqa: E731
    else:  # tmpfs pages (scratch is a private tmpfs when there is a scratch quota), not address space
        probe = lambda: fill_files(".", 300)  # noqa: E731
    status, report = run(prepared, policy_for(sandbox_course, path), [("member", member_of), ("hog", probe)])
    assert report["enter"][0] == "ok", report["enter"]
    assert any(line.endswith(os.path.basename(path)) for line in report["member"][1]), report["member"]
    assert "hog" not in report, report["hog"]  # it never finished
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    assert memory_cgroups.oom_kills(path) > before
    assert os.listdir(sandbox_course["scratch"]) == [] or not prepared.layers.scratch_quota


def test_under_the_cap_nothing_happens(prepared, sandbox_course, memory_cgroups):
    path = memory_cgroups.paths[1]
    before = memory_cgroups.oom_kills(path)
    probes = [("anonymous", lambda: touch_anonymous(20)), ("files", lambda: fill_files(".", 20))]
    status, report = run(prepared, policy_for(sandbox_course, path), probes)
    assert os.waitstatus_to_exitcode(status) == 0, (status, report)
    assert report["anonymous"] == ["ok", 20] and report["files"] == ["ok", 20], report
    assert memory_cgroups.oom_kills(path) == before


def test_rlimit_as_stays_a_second_layer(prepared, sandbox_course, memory_cgroups):
    """With a generous cgroup, RLIMIT_AS still refuses an allocation beyond memory_bytes."""
    path = memory_cgroups.paths[1]
    memory_cgroups.set_limit(path, 1 << 30)
    policy = policy_for(sandbox_course, path, memory_bytes=256 << 20)
    status, report = run(prepared, policy, [("big", lambda: len(bytearray(512 << 20)))])
    assert os.waitstatus_to_exitcode(status) == 0, (status, report)
    assert report["big"][:2] == ["error", "MemoryError"]


def test_limits_and_counters_read_back(memory_cgroups):
    path = memory_cgroups.paths[0]
    memory_cgroups.set_limit(path, 96 << 20)
    name = "memory.max" if memory_cgroups.version == 2 else "memory.limit_in_bytes"
    with open(os.path.join(path, name)) as handle:
        assert int(handle.read()) == 96 << 20
    swap = os.path.join(path, "memory.swap.max" if memory_cgroups.version == 2 else "memory.memsw.limit_in_bytes")
    if os.path.exists(swap):
        with open(swap) as handle:
            assert int(handle.read()) == (0 if memory_cgroups.version == 2 else 96 << 20)
    memory_cgroups.set_limit(path, 256 << 20)  # raising goes through memsw first on v1
    with open(os.path.join(path, name)) as handle:
        assert int(handle.read()) == 256 << 20
    assert memory_cgroups.oom_kills(path) == 0
    version, own, _ = memory.own_cgroup()
    assert version == memory_cgroups.version and all(os.path.dirname(p) == own for p in memory_cgroups.paths)


def test_remove_deletes_the_cgroups():
    ok, why = memory.available()
    if not ok:
        pytest.skip(why)
    with memory.MemoryCgroups.create(1, "removal") as made:
        assert os.path.isdir(made.paths[0])
    assert not os.path.exists(made.paths[0])
