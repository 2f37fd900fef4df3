"""grader.runner.sandbox.libc and lifeline, which uses it: errors in words, /proc/self/status, the death signal."""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import sys

import pytest

from grader.runner import lifeline, sandbox
from grader.runner.sandbox import libc as native
from helpers import run_forked

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libc through ctypes: Linux only here")

PR_BOGUS = 0x7FFF  # no such prctl option: EINVAL


def pdeathsig():
    value = ctypes.c_int(-1)
    assert native.prctl(native.libc(), native.PR_GET_PDEATHSIG, ctypes.byref(value)) == 0
    return value.value


def test_check_raises_the_errno_in_words():
    libc = native.libc()
    native.check(native.prctl(libc, native.PR_GET_PDEATHSIG, ctypes.byref(ctypes.c_int())), "prctl(PR_GET_PDEATHSIG)")
    result = native.prctl(libc, PR_BOGUS)
    assert result == -1
    with pytest.raises(sandbox.SandboxError) as raised:
        native.check(result, "prctl(0x7fff)")
    assert str(raised.value) == f"prctl(0x7fff) failed: {os.strerror(errno.EINVAL)} (errno {errno.EINVAL})"


def test_syscall_passes_arguments():
    libc = native.libc()
    getpid = {"x86_64": 39, "aarch64": 172}.get(os.uname().machine)
    if getpid is None:
        pytest.skip(f"no getpid number for {os.uname().machine}")
    assert native.syscall(libc, getpid) == os.getpid()


def test_read_status_and_cap_set():
    status = native.read_status()
    assert status["Pid"] == str(os.getpid())
    assert status["Uid"].split()[0] == str(os.getuid())
    assert native.cap_set("0000000000000005") == {native.CAP_CHOWN, 2}
    assert native.cap_set("") == set()
    if os.geteuid() == 0:
        assert {native.CAP_SETUID, native.CAP_SETGID, native.CAP_SYS_ADMIN} <= native.cap_set(status["CapEff"])


def test_lifeline_reads_back():
    before = pdeathsig()
    report = run_forked(lambda: None, [("before", pdeathsig)])
    assert report["before"] == ["ok", 0]  # fork clears it: a child starts without one
    report = run_forked(lifeline.die_with_parent, [("after", pdeathsig)])
    assert report["enter"][0] == "ok", report["enter"]
    assert report["after"] == ["ok", int(signal.SIGKILL)]
    assert pdeathsig() == before  # only the child asked
