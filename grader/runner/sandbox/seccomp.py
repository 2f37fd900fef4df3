"""The seccomp layer: a hand-assembled classic-BPF program that refuses the system calls a grader child never needs.

The program answers EPERM for creating processes (fork, vfork, clone without
``CLONE_THREAD``; clone3 answers ENOSYS so glibc falls back to clone and
threads keep working), every socket and socketpair (a path-named host socket
would otherwise be reachable), memfd_create and memfd_secret (pages no rlimit
counts), ptrace and process_vm_*, mounts, namespaces, io_uring, bpf, perf,
modules, kexec, keyrings, userfaultfd, personality, reboot, swap,
handle-based opens, pidfd_getfd, and TIOCSTI/TIOCLINUX terminal injection; a
foreign architecture (i386, x32) is refused.

Calls that act on another process by pid are confined to the caller:
prlimit64 and sched_setaffinity/setscheduler/setparam/setattr only with pid
0, setpriority and ioprio_set only with who 0 (the kernel allows them
between processes of one uid). ``prctl(PR_SET_PDEATHSIG)`` is refused, so
the child cannot clear the death signal its lifeline set before the filter.

Process rlimits do not bind root, and a ``setsid()`` grandchild
survives ``killpg`` and holds the result pipes open: only a fork ban (or a PID
namespace) prevents leftovers, hence the fork ban here.

It is built once, in the zygote (:func:`build_filter`): building a filter in
the child may spawn a compiler lookup that Landlock then breaks.
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, NamedTuple

from grader.runner.sandbox.libc import PR_SET_SECCOMP, check, prctl, syscall

SECCOMP_MODE_FILTER = 2
SECCOMP_GET_ACTION_AVAIL = 2

# Classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
BPF_LD_W_ABS = 0x20
BPF_JEQ, BPF_JGE, BPF_JSET = 0x15, 0x35, 0x45
BPF_RET_K = 0x06
BPF_MAXINSNS = 4096
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
EPERM, ENOSYS = 1, 38
PR_SET_PDEATHSIG = 1
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
X32_SYSCALL_BIT = 0x40000000
CLONE_THREAD = 0x00010000
# Every namespace flag clone() accepts; a thread must not create namespaces either.
CLONE_NS_MASK = 0x7E020000
# struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6] (low word first: little-endian only)
OFF_NR, OFF_ARCH = 0, 4


def off_arg(index: int) -> int:
    """Offset in struct seccomp_data of the low 32 bits of argument ``index``."""
    return 16 + 8 * index


@dataclass(frozen=True)
class Table:
    """One architecture: its audit arch, the syscalls whose arguments are inspected, and the flat deny list."""

    audit: int
    x32: bool  # the x32 ABI shares this audit arch and must be refused by number
    seccomp: int
    clone: int
    clone3: int
    ioctl: int
    prctl: int
    deny: Mapping[str, int]
    self_first: Mapping[str, int]  # allowed only when argument 0 (a pid) is 0, the caller
    self_second: Mapping[str, int]  # allowed only when argument 1 (who) is 0, the caller


ARCHES: Mapping[str, Table] = MappingProxyType({
    "x86_64": Table(
        audit=0xC000003E, x32=True, seccomp=317, clone=56, clone3=435, ioctl=16, prctl=157,
        deny=MappingProxyType({
            "fork": 57, "vfork": 58, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
            "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "bpf": 321,
            "perf_event_open": 298, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
            "finit_module": 313, "delete_module": 176, "keyctl": 250, "add_key": 248, "request_key": 249,
            "userfaultfd": 323, "personality": 135, "reboot": 169, "swapon": 167, "swapoff": 168,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
            "fspick": 433, "mount_setattr": 442, "open_tree_attr": 467, "name_to_handle_at": 303,
            "open_by_handle_at": 304, "pidfd_getfd": 438, "process_madvise": 440,
            "socket": 41, "socketpair": 53, "memfd_create": 319, "memfd_secret": 447,
        }),
        self_first=MappingProxyType({"prlimit64": 302, "sched_setaffinity": 203, "sched_setscheduler": 144,
                                     "sched_setparam": 142, "sched_setattr": 314}),
        self_second=MappingProxyType({"setpriority": 141, "ioprio_set": 251}),
    ),
    "aarch64": Table(  # asm-generic table: there is no fork or vfork syscall, clone does both
        audit=0xC00000B7, x32=False, seccomp=277, clone=220, clone3=435, ioctl=29, prctl=167,
        deny=MappingProxyType({
            "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
            "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "bpf": 280,
            "perf_event_open": 241, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
            "finit_module": 273, "delete_module": 106, "keyctl": 219, "add_key": 217, "request_key": 218,
            "userfaultfd": 282, "personality": 92, "reboot": 142, "swapon": 224, "swapoff": 225,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
            "fspick": 433, "mount_setattr": 442, "open_tree_attr": 467, "name_to_handle_at": 264,
            "open_by_handle_at": 265, "pidfd_getfd": 438, "process_madvise": 440,
            "socket": 198, "socketpair": 199, "memfd_create": 279, "memfd_secret": 447,
        }),
        self_first=MappingProxyType({"prlimit64": 261, "sched_setaffinity": 122, "sched_setscheduler": 119,
                                     "sched_setparam": 118, "sched_setattr": 274}),
        self_second=MappingProxyType({"setpriority": 140, "ioprio_set": 30}),
    ),
})
ARCH_ALIASES: Mapping[str, str] = MappingProxyType(
    {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"})


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Instruction(NamedTuple):
    """One struct sock_filter: jt and jf are relative jumps (0 = the next instruction)."""

    code: int
    jt: int
    jf: int
    k: int


def available(libc: ctypes.CDLL, arch: str) -> bool:
    """Whether this kernel runs seccomp filters and knows every action the program returns."""
    # SECCOMP_GET_ACTION_AVAIL answers 0 only if filters exist and know the action.
    for action in (RET_KILL_PROCESS, RET_ERRNO, RET_ALLOW):
        value = ctypes.c_uint32(action)
        if syscall(libc, ARCHES[arch].seccomp, SECCOMP_GET_ACTION_AVAIL, 0, ctypes.addressof(value)) != 0:
            return False
    return True


def build_filter(arch: str) -> bytes:
    """Assemble the program: check the arch, inspect a few calls' arguments, deny a list, allow the rest."""
    table = ARCHES[arch]
    code: list[tuple[int, int, str | None, str | None]] = []  # (opcode, k, jump-if-true, jump-if-false)
    labels: dict[str, int] = {}

    def op(opcode: int, k: int, jt: str | None = None, jf: str | None = None) -> None:
        code.append((opcode, k, jt, jf))

    def label(name: str) -> None:
        labels[name] = len(code)

    op(BPF_LD_W_ABS, OFF_ARCH)
    op(BPF_JEQ, table.audit, None, "kill")  # i386/arm32 compat calls have other numbers: refuse them
    op(BPF_LD_W_ABS, OFF_NR)
    if table.x32:
        op(BPF_JGE, X32_SYSCALL_BIT, "eperm", None)  # x32 ABI shares AUDIT_ARCH_X86_64
    op(BPF_JEQ, table.clone, "clone", None)
    op(BPF_JEQ, table.clone3, "enosys", None)  # its flags sit behind a pointer BPF cannot read
    op(BPF_JEQ, table.ioctl, "ioctl", None)
    op(BPF_JEQ, table.prctl, "prctl", None)
    for nr in sorted(set(table.self_first.values())):
        op(BPF_JEQ, nr, "self_first", None)
    for nr in sorted(set(table.self_second.values())):
        op(BPF_JEQ, nr, "self_second", None)
    for nr in sorted(set(table.deny.values())):
        op(BPF_JEQ, nr, "eperm", None)
    op(BPF_RET_K, RET_ALLOW)
    label("clone")  # a thread (CLONE_THREAD) may be made, a process may not, nor namespaces
    op(BPF_LD_W_ABS, off_arg(0))
    op(BPF_JSET, CLONE_NS_MASK, "eperm", None)
    op(BPF_JSET, CLONE_THREAD, "allow", "eperm")
    # The kernel declares these pid/who/option arguments as int and truncates the register to its low 32 bits,
    # so comparing the low word alone is exact: no high-word value makes a non-zero pid look like 0.
    label("self_first")  # pid 0 is the caller; any other pid may be a sibling of the same uid
    op(BPF_LD_W_ABS, off_arg(0))
    op(BPF_JEQ, 0, "allow", "eperm")
    label("self_second")  # setpriority/ioprio_set(which, who): who 0 is the caller (its process, group or uid)
    op(BPF_LD_W_ABS, off_arg(1))
    op(BPF_JEQ, 0, "allow", "eperm")
    label("prctl")  # clearing or changing the death signal would let the child outlive a dead zygote
    op(BPF_LD_W_ABS, off_arg(0))
    op(BPF_JEQ, PR_SET_PDEATHSIG, "eperm", "allow")
    label("ioctl")  # pushing keystrokes into a terminal would escape through the user's shell
    op(BPF_LD_W_ABS, off_arg(1))
    op(BPF_JEQ, TIOCSTI, "eperm", None)
    op(BPF_JEQ, TIOCLINUX, "eperm", None)
    label("allow")
    op(BPF_RET_K, RET_ALLOW)
    label("eperm")
    op(BPF_RET_K, RET_ERRNO | EPERM)
    label("enosys")
    op(BPF_RET_K, RET_ERRNO | ENOSYS)
    label("kill")
    op(BPF_RET_K, RET_KILL_PROCESS)
    return _assemble(code, labels)


def _assemble(code: list[tuple[int, int, str | None, str | None]], labels: dict[str, int]) -> bytes:
    """Resolve the labels into relative jumps and pack each struct sock_filter (host byte order)."""
    if len(code) > BPF_MAXINSNS:
        raise AssertionError(f"seccomp program of {len(code)} instructions exceeds {BPF_MAXINSNS}")
    out = bytearray()
    for index, (opcode, k, jt, jf) in enumerate(code):
        offsets = [0 if target is None else labels[target] - index - 1 for target in (jt, jf)]
        for target, offset in zip((jt, jf), offsets):
            # Conditional jumps are 8-bit and forward only. Every table entry jumps to a shared tail, so the
            # farthest jump (the arch check's to "kill") spans the whole program: past 257 instructions, put
            # an intermediate "ja" (BPF_JA, 32-bit offset) trampoline in the middle of the tables.
            if not 0 <= offset <= 255:
                raise AssertionError(f"seccomp jump from {index} to {target!r} spans {offset} > 255 instructions "
                                     f"({len(code)} in all): add a trampoline")  # a bug here, not a machine fact
        out += struct.pack("=HBBI", opcode, offsets[0], offsets[1], k)
    return bytes(out)


def decode(program: bytes) -> tuple[Instruction, ...]:
    """The instructions of a program :func:`build_filter` assembled (host byte order)."""
    return tuple(Instruction(*fields) for fields in struct.iter_unpack("=HBBI", program))


def install(libc: ctypes.CDLL, program: bytes) -> None:
    """Load ``program`` as this thread's seccomp filter, for good. Needs no_new_privs or CAP_SYS_ADMIN."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    check(prctl(libc, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog)), "prctl(PR_SET_SECCOMP)")
