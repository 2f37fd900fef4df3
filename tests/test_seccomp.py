"""grader.runner.sandbox.seccomp: the program decodes back to the tables, and once installed the kernel holds it."""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import struct
import sys

import pytest

from grader.runner import lifeline
from grader.runner.sandbox import libc as native, seccomp
from helpers import in_thread, run_forked, try_fork

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp is Linux-only")

ARCHES = sorted(seccomp.ARCHES)
EPERM = seccomp.RET_ERRNO | seccomp.EPERM
ENOSYS = seccomp.RET_ERRNO | seccomp.ENOSYS
ALLOW, KILL = seccomp.RET_ALLOW, seccomp.RET_KILL_PROCESS
I386_AUDIT = 0x40000003
CLONE_VM, CLONE_NEWUSER, SIGCHLD = 0x100, 0x10000000, 17
AF_UNIX, AF_INET, AF_NETLINK, TCGETS = 1, 2, 16, 0x5401
PR_GET_PDEATHSIG, PR_SET_NAME = 2, 15


def run_filter(program: bytes, audit: int, nr: int, *args: int) -> int:
    """What the program returns for one system call: a classic-BPF interpreter for the opcodes it uses."""
    data = struct.pack("=iIQ6Q", nr, audit, 0, *(list(args) + [0] * (6 - len(args))))
    code, pc, acc = seccomp.decode(program), 0, 0
    for _ in range(len(code)):  # no loops in classic BPF: each step moves forward
        ins = code[pc]
        if ins.code == seccomp.BPF_RET_K:
            return ins.k
        if ins.code == seccomp.BPF_LD_W_ABS:
            acc, pc = struct.unpack_from("=I", data, ins.k)[0], pc + 1
            continue
        taken = {seccomp.BPF_JEQ: acc == ins.k, seccomp.BPF_JGE: acc >= ins.k, seccomp.BPF_JSET: bool(acc & ins.k)}
        assert ins.code in taken, f"unexpected opcode {ins.code:#x} at {pc}"
        pc += 1 + (ins.jt if taken[ins.code] else ins.jf)
    raise AssertionError("program ran off its end")


@pytest.mark.parametrize("arch", ARCHES)
def test_arch_check_comes_first(arch):
    code = seccomp.decode(seccomp.build_filter(arch))
    table = seccomp.ARCHES[arch]
    assert code[0] == (seccomp.BPF_LD_W_ABS, 0, 0, seccomp.OFF_ARCH)
    assert code[1].code == seccomp.BPF_JEQ and code[1].k == table.audit and code[1].jt == 0
    assert code[2 + code[1].jf] == (seccomp.BPF_RET_K, 0, 0, KILL)
    assert code[2] == (seccomp.BPF_LD_W_ABS, 0, 0, seccomp.OFF_NR)
    assert run_filter(seccomp.build_filter(arch), I386_AUDIT, 0) == KILL  # a foreign ABI's read(0): refused


@pytest.mark.parametrize("arch", ARCHES)
def test_denied_numbers_are_exactly_the_table(arch):
    program, table = seccomp.build_filter(arch), seccomp.ARCHES[arch]
    code = seccomp.decode(program)
    # Read off the instructions: every equality test on the syscall number that jumps straight to EPERM.
    denied, loaded = set(), None
    for index, ins in enumerate(code):
        if ins.code == seccomp.BPF_LD_W_ABS:
            loaded = ins.k
        elif ins.code == seccomp.BPF_JEQ and loaded == seccomp.OFF_NR and ins.jt:
            if code[index + 1 + ins.jt] == (seccomp.BPF_RET_K, 0, 0, EPERM):
                denied.add(ins.k)
    assert denied == set(table.deny.values())
    # And run it: with all-zero arguments only the table and clone (no CLONE_THREAD) get EPERM; pid/who 0 is allowed.
    answers = {nr: run_filter(program, table.audit, nr) for nr in range(1024)}
    assert {nr for nr, ret in answers.items() if ret == EPERM} == {*table.deny.values(), table.clone}
    assert {"socket", "socketpair", "memfd_create", "memfd_secret"} <= set(table.deny)
    assert {nr for nr, ret in answers.items() if ret == ENOSYS} == {table.clone3}
    assert {ret for ret in answers.values()} == {ALLOW, EPERM, ENOSYS}


@pytest.mark.parametrize("arch", ARCHES)
def test_arguments_are_inspected(arch):
    program, table = seccomp.build_filter(arch), seccomp.ARCHES[arch]

    def call(nr, *args):
        return run_filter(program, table.audit, nr, *args)

    thread = CLONE_VM | seccomp.CLONE_THREAD
    assert call(table.clone, thread) == ALLOW
    assert call(table.clone, thread | CLONE_NEWUSER) == EPERM
    assert call(table.clone, SIGCHLD) == EPERM  # what fork() becomes
    for family in (AF_UNIX, AF_INET, AF_NETLINK):  # no family at all, AF_UNIX included
        assert call(table.deny["socket"], family) == call(table.deny["socketpair"], family) == EPERM
    for name, nr in table.self_first.items():  # (pid, ...): the caller only
        assert call(nr, 0) == ALLOW, name
        assert call(nr, 1234) == call(nr, (1 << 32) | 1234) == EPERM, name
        assert call(nr, 1 << 32) == ALLOW, name  # the kernel truncates pid_t to 32 bits: this is pid 0
    for name, nr in table.self_second.items():  # (which, who, ...): who 0 is the caller
        assert call(nr, 1, 0) == ALLOW, name
        assert call(nr, 1, 1234) == EPERM, name
    assert call(table.prctl, seccomp.PR_SET_PDEATHSIG, 0) == EPERM
    assert call(table.prctl, seccomp.PR_SET_PDEATHSIG, signal.SIGKILL) == EPERM
    assert call(table.prctl, PR_GET_PDEATHSIG) == call(table.prctl, PR_SET_NAME) == ALLOW
    assert call(table.ioctl, 0, seccomp.TIOCSTI) == call(table.ioctl, 0, seccomp.TIOCLINUX) == EPERM
    assert call(table.ioctl, 0, TCGETS) == ALLOW
    if table.x32:
        assert call(seccomp.X32_SYSCALL_BIT | 39, 0) == EPERM  # x32 getpid
    else:
        assert "fork" not in table.deny and "vfork" not in table.deny


def status_fields():
    with open("/proc/self/status") as handle:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in handle if ":\t" in line)
    return {key: fields.get(key) for key in ("NoNewPrivs", "Seccomp", "Seccomp_filters")}


def install_alone(prepared):
    """The seccomp layer and what it needs (no_new_privs), nothing else."""
    libc = prepared.libc
    native.check(native.prctl(libc, native.PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")
    seccomp.install(libc, prepared.seccomp_filter)


def inet_socket():
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    return "opened"


def test_install_reads_back(prepared):
    if not prepared.layers.seccomp:
        pytest.skip(f"no seccomp here: {prepared.layers.missing}")
    before = status_fields()
    if before["Seccomp"] != "0":
        pytest.skip(f"this process already runs under seccomp mode {before['Seccomp']}")
    report = run_forked(lambda: install_alone(prepared),
                        [("status", status_fields), ("fork", try_fork), ("inet", inet_socket), ("thread", in_thread)])
    assert report["enter"][0] == "ok", report["enter"]
    status = report["status"][1]
    assert status["Seccomp"] == "2"  # SECCOMP_MODE_FILTER
    if before["Seccomp_filters"] is not None:  # the field exists since Linux 5.9
        assert status["Seccomp_filters"] == str(int(before["Seccomp_filters"]) + 1) == "1"
    assert report["fork"][:2] == ["error", "PermissionError"], report["fork"]
    assert report["inet"][:2] == ["error", "PermissionError"], report["inet"]
    assert report["thread"] == ["ok", 45]


PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_SECCOMP_GET_FILTER = 17, 0x4206, 0x4207, 0x420C


def test_kernel_holds_the_assembled_program(prepared):
    """PTRACE_SECCOMP_GET_FILTER hands back the filter the kernel attached to the child: it is ours, byte for byte."""
    if not prepared.layers.seccomp:
        pytest.skip(f"no seccomp here: {prepared.layers.missing}")
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(ready_r)
            os.close(done_w)
            install_alone(prepared)
            os.write(ready_w, b"k")
            os.read(done_r, 1)
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(done_r)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    try:
        assert os.read(ready_r, 1) == b"k", "the child could not install the filter"
        with open(f"/proc/{pid}/status") as handle:
            assert "Seccomp:\t2\n" in handle.read()  # SECCOMP_MODE_FILTER, seen from outside the child
        if libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0:
            pytest.skip(f"cannot ptrace the child: {os.strerror(ctypes.get_errno())}")
        assert libc.ptrace(PTRACE_INTERRUPT, pid, None, None) == 0
        _, status = os.waitpid(pid, 0)
        assert os.WIFSTOPPED(status), status
        count = libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, None)
        if count < 0:
            error = ctypes.get_errno()
            if error in (errno.EIO, errno.EACCES):  # no CONFIG_CHECKPOINT_RESTORE, or no CAP_SYS_ADMIN here
                pytest.skip(f"PTRACE_SECCOMP_GET_FILTER: {os.strerror(error)}")
            pytest.fail(f"PTRACE_SECCOMP_GET_FILTER: {os.strerror(error)}")
        buffer = ctypes.create_string_buffer(count * 8)
        assert libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, buffer) == count
        if status_fields()["Seccomp"] == "0":  # index 0 is the newest filter; ours is the child's only one
            assert libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 1, None) < 0 and ctypes.get_errno() == errno.ENOENT
        assert count == len(prepared.seccomp_filter) // 8
        assert seccomp.decode(buffer.raw) == seccomp.decode(prepared.seccomp_filter)
        libc.ptrace(PTRACE_DETACH, pid, None, None)
    finally:
        os.close(ready_r)
        os.write(done_w, b"x")
        os.close(done_w)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


# --------------------------------------------------------------------------- the calls that reach other processes


def raw(nr, *args):
    """A raw system call from the child: its result, or OSError with errno."""
    libc = native.libc()
    result = native.syscall(libc, nr, *args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return result


def pdeathsig():
    value = ctypes.c_int(-1)
    native.prctl(native.libc(), native.PR_GET_PDEATHSIG, ctypes.byref(value))
    return value.value


def clear_pdeathsig():
    if native.prctl(native.libc(), native.PR_SET_PDEATHSIG, 0) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return "cleared"


def test_other_processes_are_out_of_reach(prepared):
    """Every call that takes a pid answers EPERM for the parent's and works on 0; the death signal stays set.

    As root, without the filter, each call on the parent would succeed (it only re-applies current values).
    """
    if not prepared.layers.seccomp:
        pytest.skip(f"no seccomp here: {prepared.layers.missing}")
    import resource

    table = seccomp.ARCHES[prepared.arch]
    parent = os.getpid()
    ioprio = table.self_second["ioprio_set"]
    who_process = 1  # IOPRIO_WHO_PROCESS
    probes = [
        ("prlimit_parent", lambda: resource.prlimit(parent, resource.RLIMIT_CPU)),
        ("prlimit_self", lambda: resource.prlimit(0, resource.RLIMIT_CPU)),
        ("setrlimit_self", lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0))),  # glibc: prlimit64(0, ...)
        ("setpriority_parent", lambda: os.setpriority(os.PRIO_PROCESS, parent,
                                                      os.getpriority(os.PRIO_PROCESS, parent))),
        ("setpriority_self", lambda: os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0))),
        ("affinity_parent", lambda: os.sched_setaffinity(parent, os.sched_getaffinity(parent))),
        ("affinity_self", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0))),
        ("scheduler_parent", lambda: os.sched_setscheduler(parent, os.sched_getscheduler(parent),
                                                           os.sched_param(0))),
        ("param_parent", lambda: os.sched_setparam(parent, os.sched_getparam(parent))),
        ("param_self", lambda: os.sched_setparam(0, os.sched_getparam(0))),
        ("ioprio_parent", lambda: raw(ioprio, who_process, parent, raw(ioprio + 1, who_process, parent))),
        ("ioprio_self", lambda: raw(ioprio, who_process, 0, raw(ioprio + 1, who_process, 0))),
        ("clear_pdeathsig", clear_pdeathsig),
        ("pdeathsig", pdeathsig),
        ("memfd", lambda: os.memfd_create("probe")),
        ("unix_socket", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()),
        ("socketpair", lambda: socket.socketpair(socket.AF_UNIX)),
        ("thread", in_thread),
    ]

    def setup():
        lifeline.die_with_parent()  # as the zygote's child does, before the filter
        install_alone(prepared)

    report = run_forked(setup, probes)
    assert report["enter"][0] == "ok", report["enter"]
    for name in ("prlimit_parent", "setpriority_parent", "affinity_parent", "scheduler_parent", "param_parent",
                 "ioprio_parent", "clear_pdeathsig", "memfd", "unix_socket", "socketpair"):
        assert report[name][:2] == ["error", "PermissionError"], (name, report[name])
    for name in ("prlimit_self", "setrlimit_self", "setpriority_self", "affinity_self", "param_self", "ioprio_self"):
        assert report[name][0] == "ok", (name, report[name])
    assert report["pdeathsig"] == ["ok", int(signal.SIGKILL)]  # still armed after the refused clear
    assert report["thread"] == ["ok", 45]
