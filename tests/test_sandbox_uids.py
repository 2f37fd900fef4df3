"""grader.runner.sandbox.uids: leases are disjoint across processes; children of distinct uids cannot touch each other."""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from grader.runner import sandbox
from grader.runner.sandbox import credentials, uids
from helpers import run_forked, run_sandboxed

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uids and forked children: Linux here")


@pytest.fixture(autouse=True)
def needs_leases():
    ok, why = uids.available()
    if not ok:
        pytest.skip(f"no uid per child here: {why}")


def hold_lease(count, lock_dir):
    """Fork a process that reserves ``count`` uids and holds them: (pid, its uids, pipe to end it)."""
    report_r, report_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(report_r)
            os.close(done_w)
            lease = uids.reserve(count, lock_dir=lock_dir)
            os.write(report_w, json.dumps(lease.uids).encode())
            os.close(report_w)
            os.read(done_r, 1)  # hold until told
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    os.close(report_w)
    os.close(done_r)
    data = os.read(report_r, 1 << 16)
    os.close(report_r)
    return pid, tuple(json.loads(data) if data else ()), done_w


def end(pid, done_w):
    os.write(done_w, b"x")
    os.close(done_w)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_two_processes_get_disjoint_uids(tmp_path):
    lock_dir = str(tmp_path / "locks")
    first = hold_lease(4, lock_dir)
    second = hold_lease(4, lock_dir)
    try:
        assert len(first[1]) == len(second[1]) == 4
        assert not set(first[1]) & set(second[1]), (first[1], second[1])
        with uids.reserve(2, lock_dir=lock_dir) as mine:  # and this process a third, disjoint set
            assert not set(mine.uids) & (set(first[1]) | set(second[1]))
    finally:
        end(first[0], first[2])
        end(second[0], second[2])
    # The holders are gone, and their locks with them: the same uids are free again.
    with uids.reserve(4, lock_dir=lock_dir) as again:
        assert again.uids == first[1]


def test_a_lease_of_a_killed_process_is_freed(tmp_path):
    lock_dir = str(tmp_path / "locks")
    pid, held, done_w = hold_lease(1, lock_dir)
    with uids.reserve(1, lock_dir=lock_dir) as other:
        assert other.uids != held
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(done_w)
    with uids.reserve(1, lock_dir=lock_dir) as after:
        assert after.uids == held


def test_leased_uids_are_unused(tmp_path):
    with open("/etc/passwd") as handle:
        accounts = {int(line.split(":")[2]) for line in handle if line.count(":") >= 3}
    with uids.reserve(3, lock_dir=str(tmp_path)) as lease:
        assert lease.distinct and len(set(lease.uids)) == 3
        assert all(credentials.uid_mapped(u) and u not in accounts and u in uids.RANGE for u in lease.uids)


def test_a_uid_a_process_runs_as_is_skipped(tmp_path):
    busy = uids.RANGE[0]
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(busy, busy, busy)
            os.setresuid(busy, busy, busy)
            os.write(ready_w, b"k")
            signal.pause()
        finally:
            os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"k"
        with uids.reserve(1, lock_dir=str(tmp_path)) as lease:
            assert lease.uids != (busy,)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(ready_r)
        os.close(ready_w)


def test_too_many_uids_fail_loudly(tmp_path):
    with pytest.raises(sandbox.SandboxError):
        uids.reserve(3, candidates=range(uids.RANGE[0], uids.RANGE[0] + 2), lock_dir=str(tmp_path))


def start_victim(prepared, course, uid):
    """A fully sandboxed child running as ``uid`` that waits: (pid, pipe to end it)."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setsid()
            sandbox.enter(prepared, sandbox.Policy(readable=(), scratch=course["scratch"], memory_bytes=256 << 20,
                                                   cpu_seconds=20, uid=uid))
            os.write(ready_w, b"k")
            os.read(done_r, 1)
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(done_r)
    assert os.read(ready_r, 1) == b"k", "the victim could not enter the sandbox"
    os.close(ready_r)
    return pid, done_w


def attack(victim):
    import resource

    return [
        ("kill", lambda: os.kill(victim, 0)),
        ("prlimit", lambda: resource.prlimit(victim, resource.RLIMIT_CPU)),
        ("renice", lambda: os.setpriority(os.PRIO_PROCESS, victim, 19)),
        ("affinity", lambda: os.sched_setaffinity(victim, os.sched_getaffinity(0))),
    ]


def test_children_of_distinct_uids_cannot_touch_each_other(prepared, sandbox_course, uid_lease):
    if not prepared.layers.setuid:
        pytest.skip(f"no privilege drop here: {prepared.layers.missing}")
    first, second = uid_lease.uids
    assert first != second
    victim, done_w = start_victim(prepared, sandbox_course, first)
    try:
        with open(f"/proc/{victim}/status") as handle:
            assert f"Uid:\t{first}\t{first}\t{first}\t{first}\n" in handle.read()

        def drop_only(uid):  # the uid layer alone: no seccomp, no Landlock to hide behind
            return lambda: credentials.drop_privileges(prepared.libc, uid, uid, prepared.cap_last_cap,
                                                       prepared.can_drop_bounding)

        other = run_forked(drop_only(second), attack(victim))
        assert other["enter"][0] == "ok", other["enter"]
        for name in ("kill", "prlimit", "renice", "affinity"):
            assert other[name][:2] == ["error", "PermissionError"], (name, other[name])
        # Control: with the victim's own uid, the same calls reach it, so the refusals above are the uid's doing.
        same = run_forked(drop_only(first), attack(victim)[:2])
        assert same["kill"][0] == "ok" and same["prlimit"][0] == "ok", same
        # And fully sandboxed, with its own uid, the second child cannot either.
        sandboxed = run_sandboxed(prepared, sandbox.Policy(readable=(), scratch=sandbox_course["open"],
                                                           memory_bytes=256 << 20, cpu_seconds=20, uid=second),
                                  attack(victim))
        assert sandboxed["enter"][0] == "ok", sandboxed["enter"]
        for name in ("kill", "prlimit", "renice", "affinity"):
            assert sandboxed[name][:2] == ["error", "PermissionError"], (name, sandboxed[name])
        with open(f"/proc/{victim}/stat") as handle:
            assert handle.read().rsplit(")", 1)[1].split()[16] == "0"  # field 19, nice: untouched
    finally:
        os.write(done_w, b"x")
        os.close(done_w)
        _, status = os.waitpid(victim, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_lock_directory_must_be_private(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone could plant or hold lock files here
    with pytest.raises(sandbox.SandboxError, match="writable only by it"):
        uids.reserve(1, lock_dir=str(shared))
    with uids.reserve(1) as lease:  # the default: /run/autograd-grader/uids as root, else a per-user temp folder
        assert lease.distinct and len(lease.uids) == 1
