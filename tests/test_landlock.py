"""grader.runner.sandbox.landlock alone, in a forked child: the domain it installs allows inside, denies outside."""

from __future__ import annotations

import errno
import os
import socket
import sys

import pytest

from grader.runner.sandbox import landlock, libc as native
from helpers import SUBMISSION_SOURCE, read, run_forked, write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Landlock is Linux-only")


def tcp(action, port):
    """connect to / bind on 127.0.0.1: "done" or the errno's name."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if action == "connect":
            sock.connect(("127.0.0.1", port))
        else:
            sock.bind(("127.0.0.1", port))
        return "done"
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    finally:
        sock.close()


def signal_parent(parent):
    try:
        os.kill(parent, 0)
        return "delivered"
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))


def test_domain_reads_back(prepared, sandbox_course):
    if not prepared.layers.landlock:
        pytest.skip(f"no Landlock here: {prepared.layers.missing}")
    abi = prepared.layers.landlock_abi
    sub, sol, scratch = (os.path.realpath(sandbox_course[k]) for k in ("submission", "solutions", "scratch"))
    parent = os.getpid()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def setup():  # the Landlock layer alone: no rlimits, no drop (the child stays root), no seccomp
        libc = prepared.libc
        native.check(native.prctl(libc, native.PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")
        landlock.restrict(libc, abi, (), (sub,), scratch)

    probes = [
        ("read_inside", lambda: read(os.path.join(sub, "ex01_gradient_4x.py"))),
        ("list_inside", lambda: os.listdir(sub)),
        ("read_outside", lambda: read(os.path.join(sol, "ex01_gradient_4x.py"))),
        ("list_outside", lambda: os.listdir(sol)),
        ("read_etc", lambda: read("/etc/passwd")),
        ("write_scratch", lambda: write(os.path.join(scratch, "out.txt"))),
        ("write_inside", lambda: write(os.path.join(sub, "planted.py"))),
        ("tcp_connect", lambda: tcp("connect", port)),
        ("tcp_bind", lambda: tcp("bind", 0)),
        ("signal_parent", lambda: signal_parent(parent)),
    ]
    try:
        report = run_forked(setup, probes)
    finally:
        listener.close()
    assert report["enter"][0] == "ok", report["enter"]

    assert report["read_inside"] == ["ok", SUBMISSION_SOURCE]
    assert report["list_inside"] == ["ok", ["ex01_gradient_4x.py"]]
    assert report["write_scratch"] == ["ok", 1]
    for name in ("read_outside", "list_outside", "read_etc", "write_inside"):  # root, yet refused
        assert report[name][:2] == ["error", "PermissionError"], (name, report[name])
    assert not os.path.exists(os.path.join(sub, "planted.py"))

    if abi >= 4:  # TCP is handled and never granted
        assert report["tcp_connect"] == ["ok", "EACCES"]
        assert report["tcp_bind"] == ["ok", "EACCES"]
    else:
        print(f"\nLandlock ABI {abi} < 4: TCP not checked (got {report['tcp_connect']})")
    if abi >= 6:  # signals are scoped to the domain: not even root's kill(parent, 0) gets out
        assert report["signal_parent"] == ["ok", "EPERM"]
    else:
        print(f"\nLandlock ABI {abi} < 6: signal scope not checked (got {report['signal_parent']})")


def test_probe_matches_prepare(prepared):
    abi = landlock.probe_abi(native.libc())
    assert abi == prepared.layers.landlock_abi
    assert prepared.layers.landlock == (abi > 0)
    assert prepared.layers.landlock_net == (abi >= 4) and prepared.layers.landlock_scope == (abi >= 6)


def test_missing_readable_path_raises(prepared, sandbox_course):
    if not prepared.layers.landlock:
        pytest.skip(f"no Landlock here: {prepared.layers.missing}")
    gone = os.path.join(os.path.realpath(sandbox_course["submission"]), "nope")

    def setup():
        libc = prepared.libc
        native.check(native.prctl(libc, native.PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")
        landlock.restrict(libc, prepared.layers.landlock_abi, (gone,), (), os.path.realpath(sandbox_course["scratch"]))
        landlock.restrict(libc, prepared.layers.landlock_abi, (), (gone,), os.path.realpath(sandbox_course["scratch"]))

    report = run_forked(setup, [])
    # A vanished system path is skipped; a vanished readable path is a SandboxError in words.
    assert report["enter"] == ["error", "SandboxError", f"readable path {gone} does not exist"]
