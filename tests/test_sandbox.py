"""grader.runner.sandbox on real processes: fork a child, enter the sandbox, probe it, report back through a pipe."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import pytest
import torch

# Before any op: a forked child of a process whose OpenMP pool exists hangs in its first parallel op.
torch.set_num_threads(1)

from grader.runner import sandbox  # noqa: E402
from helpers import (SECRET, SUBMISSION_SOURCE, in_thread, make_course, read, run_sandboxed,  # noqa: E402
                     try_fork, write)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox's kernel layers are Linux-only")

def policy_for(course, **overrides):
    fields = dict(readable=(course["submission"],), scratch=course["scratch"], memory_bytes=512 << 20,
                  cpu_seconds=20)
    fields.update(overrides)
    return sandbox.Policy(**fields)


# --------------------------------------------------------------------------- probes (run inside the child)


def socketpair_roundtrip():
    left, right = socket.socketpair(socket.AF_UNIX)
    left.sendall(b"ping")
    return right.recv(4).decode()


def torch_ops():
    small = torch.ones(3).sum().item()
    torch.set_num_threads(2)  # the child may start its own OpenMP pool (threads via clone(CLONE_THREAD))
    big = torch.ones(256, 256) @ torch.ones(256, 256)
    return [small, big[0, 0].item()]


def capabilities():
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    return {key: int(fields[key], 16) for key in ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")}


def filters():
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    return {key: fields[key].strip() for key in ("NoNewPrivs", "Seccomp")}


def fresh_stdlib_import():
    # A stdlib module not loaded before enter: the interpreter under /root must stay importable.
    sys.modules.pop("colorsys", None)
    import colorsys

    return colorsys.rgb_to_hsv(1.0, 0.0, 0.0)[2]


def unshare_user_ns():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return "unshared"


# --------------------------------------------------------------------------- tests


def test_prepare_reports_layers(prepared):
    layers = prepared.layers
    described = sandbox.describe(prepared)
    json.dumps(described)  # the zygote sends it as JSON
    assert isinstance(layers.missing, tuple)
    for name in ("landlock", "seccomp", "setuid", "memory_limit", "memory_cgroup", "scratch_quota", "uid_per_child",
                 "environment"):
        assert isinstance(getattr(layers, name), bool)
        assert described[name] is getattr(layers, name)
        assert (name in layers.summary()) == getattr(layers, name)
    assert json.loads(json.dumps(described))["missing"] == list(layers.missing)
    # Each new layer that is off says so, in one sentence of its own.
    for present, start in ((layers.memory_cgroup, "no memory cgroup ("), (layers.scratch_quota, "no scratch quota"),
                           (layers.uid_per_child, "no uid per child")):
        assert present or any(m.startswith(start) for m in layers.missing), (start, layers.missing)
    assert layers.scratch_quota == layers.private_mounts
    if not layers.memory_cgroup:
        assert "RLIMIT_AS only, which does not count memfd/shared memory" in " ".join(layers.missing)
    # Every missing layer is explained in one sentence.
    for attr, present in (("landlock", layers.landlock), ("seccomp", layers.seccomp)):
        if not present:
            assert layers.missing, f"{attr} missing without a reason"
    if os.geteuid() == 0:
        assert layers.setuid, layers.missing
    assert layers.seccomp == (len(prepared.seccomp_filter) > 0)
    print(f"\n{layers.summary()}")


def test_child_is_confined(prepared, sandbox_course):
    if not (prepared.layers.landlock and prepared.layers.seccomp and prepared.layers.setuid):
        pytest.skip(f"needs Landlock, seccomp and root here: {prepared.layers.missing}")
    mounts_before = read("/proc/self/mountinfo")
    parent = os.getpid()
    sub, sol, scratch, open_dir = (sandbox_course[k] for k in ("submission", "solutions", "scratch", "open"))
    probes = [
        ("read_solutions", lambda: read(os.path.join(sol, "ex01_gradient_4x.py"))),
        ("list_solutions", lambda: os.listdir(sol)),
        ("read_course_dir", lambda: os.listdir(os.path.dirname(os.path.abspath(sandbox.__file__)))),
        ("read_submission", lambda: read(os.path.join(sub, "ex01_gradient_4x.py"))),
        ("list_submission", lambda: os.listdir(sub)),
        ("write_scratch", lambda: write("relative.txt") + write(os.path.join(scratch, "absolute.txt"))),
        ("tempfile", lambda: os.path.dirname(tempfile.mkstemp()[1])),
        ("cwd", os.getcwd),
        ("write_open_dir", lambda: write(os.path.join(open_dir, "planted.py"))),
        ("write_tmp", lambda: write("/tmp/sandbox-escape.txt")),
        ("write_submission", lambda: write(os.path.join(sub, "planted.py"))),
        ("fork", try_fork),
        ("popen", lambda: subprocess.Popen(["/bin/true"]).wait()),
        ("inet_socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),
        ("inet_udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()),
        ("unix_socketpair", socketpair_roundtrip),
        ("thread", in_thread),
        ("torch", torch_ops),
        ("big_alloc", lambda: len(bytearray(4 << 30))),
        ("ids", lambda: [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()]),
        ("caps", capabilities),
        ("filters", filters),
        ("kill_parent", lambda: os.kill(parent, 0)),
        ("unshare", unshare_user_ns),
        ("stdlib_import", fresh_stdlib_import),
    ]
    report = run_sandboxed(prepared, policy_for(sandbox_course), probes)
    assert report["enter"][0] == "ok", report["enter"]

    def denied(name, error="PermissionError"):
        assert report[name][0] == "error" and report[name][1] == error, (name, report[name])

    def allowed(name):
        assert report[name][0] == "ok", (name, report[name])
        return report[name][1]

    for name in ("read_solutions", "list_solutions", "read_course_dir",
                 "write_open_dir", "write_tmp", "write_submission", "fork", "popen", "inet_socket",
                 "inet_udp", "unix_socketpair", "kill_parent", "unshare"):
        denied(name)
    denied("big_alloc", "MemoryError")
    assert allowed("read_submission") == SUBMISSION_SOURCE
    assert allowed("list_submission") == ["ex01_gradient_4x.py"]
    assert allowed("write_scratch") == 2
    assert allowed("tempfile") == os.path.realpath(scratch)
    assert allowed("cwd") == os.path.realpath(scratch)
    assert allowed("thread") == 45
    assert allowed("torch") == [3.0, 256.0]
    assert allowed("ids") == [65534, 65534, 65534, 65534, []]
    assert allowed("caps") == {"CapEff": 0, "CapPrm": 0, "CapInh": 0, "CapAmb": 0, "CapBnd": 0}
    assert allowed("filters") == {"NoNewPrivs": "1", "Seccomp": "2"}
    assert allowed("stdlib_import") == 1.0

    # The parent is untouched: still root, can fork, open sockets, read the answers; no mounts leaked.
    assert os.getuid() == 0 or not prepared.layers.setuid
    assert subprocess.run(["/bin/true"]).returncode == 0
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    assert read(os.path.join(sol, "ex01_gradient_4x.py")) == SECRET
    assert not os.path.exists(os.path.join(open_dir, "planted.py"))
    assert not os.path.exists(os.path.join(sub, "planted.py"))
    # With the scratch quota the child wrote into its private tmpfs: nothing reached the host's folder.
    assert os.path.exists(os.path.join(scratch, "relative.txt")) != prepared.layers.scratch_quota
    assert read("/proc/self/mountinfo") == mounts_before


def test_paths_under_a_private_directory(prepared, tmp_path):
    """pytest's tmp_path sits under /tmp/pytest-of-root (0700), like mkdtemp() output: still usable, siblings gone."""
    if not prepared.layers.setuid:
        pytest.skip("no privilege drop here: file modes are not in play")
    course = make_course(str(tmp_path))
    probes = [
        ("read_submission", lambda: read(os.path.join(course["submission"], "ex01_gradient_4x.py"))),
        ("write_scratch", lambda: write("out.txt")),
        ("read_solutions", lambda: read(os.path.join(course["solutions"], "ex01_gradient_4x.py"))),
    ]
    report = run_sandboxed(prepared, policy_for(course), probes)
    assert report["enter"][0] == "ok", report["enter"]
    assert report["read_submission"] == ["ok", SUBMISSION_SOURCE]
    assert report["write_scratch"] == ["ok", 1]
    assert report["read_solutions"][0] == "error"
    assert report["read_solutions"][1] in ("FileNotFoundError", "PermissionError")
    assert read(os.path.join(course["solutions"], "ex01_gradient_4x.py")) == SECRET


def test_missing_readable_path_fails_loudly(prepared, sandbox_course):
    policy = policy_for(sandbox_course, readable=(os.path.join(sandbox_course["submission"], "nope"),))
    report = run_sandboxed(prepared, policy, [])
    assert report["enter"][0] == "error" and report["enter"][1] == "SandboxError", report["enter"]


def test_enter_cost(prepared, sandbox_course, capsys):
    costs, walls = [], []
    for _ in range(5):
        started = time.perf_counter()
        report = run_sandboxed(prepared, policy_for(sandbox_course), [])
        walls.append((time.perf_counter() - started) * 1e3)
        assert report["enter"][0] == "ok", report["enter"]
        costs.append(report["enter"][1])
    with capsys.disabled():
        print(f"\nsandbox.enter(): median {statistics.median(costs):.2f} ms (min {min(costs):.2f}, "
              f"max {max(costs):.2f}); fork+enter+exit+reap: median {statistics.median(walls):.1f} ms; "
              f"{prepared.layers.summary()}")


def test_system_plan_holds_for_leased_uids(prepared, uid_lease):
    """prepare() plans the system paths once; for each leased uid a fresh plan is the same (they own nothing)."""
    if not prepared.layers.setuid:
        pytest.skip("no privilege drop here")
    from grader.runner.sandbox import mounts

    for uid in (*uid_lease.uids, sandbox.DEFAULT_UID):
        assert uid not in prepared.system_owners[0] and uid not in prepared.system_owners[1]
        masks, unfixable = mounts.plan_views(prepared.system_paths, uid, uid)
        assert unfixable == []
        assert {k: tuple(v) for k, v in masks.items()} == dict(prepared.system_masks)


def test_enter_cost_with_every_layer(prepared, sandbox_course, memory_cgroups, uid_lease, capsys):
    """enter() with a leased uid, the memory cgroup (one migration per child) and the scratch tmpfs; ids read back."""
    if not prepared.layers.setuid:
        pytest.skip("no privilege drop here")
    import gc

    uid = uid_lease.uids[1]
    policy = policy_for(sandbox_course, uid=uid, cgroup=memory_cgroups.paths[0])
    costs, walls = [], []
    gc.collect()
    for _ in range(7):
        started = time.perf_counter()
        report = run_sandboxed(prepared, policy, [("ids", lambda: [os.getuid(), os.getgid(), os.getgroups()])])
        walls.append((time.perf_counter() - started) * 1e3)
        assert report["enter"][0] == "ok", report["enter"]
        assert report["ids"] == ["ok", [uid, uid, []]]
        costs.append(report["enter"][1])
    with capsys.disabled():
        print(f"\nsandbox.enter() with leased uid + memory cgroup + scratch tmpfs: median "
              f"{statistics.median(costs):.2f} ms (min {min(costs):.2f}, max {max(costs):.2f}); "
              f"fork+enter+exit+reap: median {statistics.median(walls):.1f} ms")
