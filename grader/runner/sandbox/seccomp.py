"""The seccomp layer: a hand-assembled classic-BPF program that refuses the system calls a grader child never needs.

The program answers EPERM for creating processes (fork, vfork, clone without
``CLONE_THREAD``; clone3 answers ENOSYS so glibc falls back to clone and
threads keep working), sockets other than AF_UNIX, ptrace and process_vm_*,
mounts, namespaces, io_uring, bpf, perf, modules, kexec, keyrings,
userfaultfd, personality, reboot, swap, handle-based opens, pidfd_getfd, and
TIOCSTI/TIOCLINUX terminal injection; a foreign architecture (i386, x32) is
refused. Process rlimits do not bind root, and a ``setsid()`` grandchild
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
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
EPERM, ENOSYS = 1, 38
AF_UNIX = 1
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
    socket: int
    ioctl: int
    deny: Mapping[str, int]


ARCHES: Mapping[str, Table] = MappingProxyType({
    "x86_64": Table(
        audit=0xC000003E, x32=True, seccomp=317, clone=56, clone3=435, socket=41, ioctl=16,
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
        }),
    ),
    "aarch64": Table(  # asm-generic table: there is no fork or vfork syscall, clone does both
        audit=0xC00000B7, x32=False, seccomp=277, clone=220, clone3=435, socket=198, ioctl=29,
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
        }),
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
    """Assemble the seccomp program: check the arch, special-case clone/socket/ioctl, deny a list, allow the rest."""
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
    op(BPF_JEQ, table.socket, "socket", None)
    op(BPF_JEQ, table.ioctl, "ioctl", None)
    for nr in sorted(set(table.deny.values())):
        op(BPF_JEQ, nr, "eperm", None)
    op(BPF_RET_K, RET_ALLOW)
    label("clone")  # a thread (CLONE_THREAD) may be made, a process may not, nor namespaces
    op(BPF_LD_W_ABS, off_arg(0))
    op(BPF_JSET, CLONE_NS_MASK, "eperm", None)
    op(BPF_JSET, CLONE_THREAD, "allow", "eperm")
    label("socket")  # AF_UNIX only: no network, no netlink, no packet sockets
    op(BPF_LD_W_ABS, off_arg(0))
    op(BPF_JEQ, AF_UNIX, "allow", "eperm")
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

    out = bytearray()
    for index, (opcode, k, jt, jf) in enumerate(code):
        offsets = [0 if target is None else labels[target] - index - 1 for target in (jt, jf)]
        if not all(0 <= o <= 255 for o in offsets):
            raise AssertionError("seccomp program too long for 8-bit jumps")  # a bug here, not a machine fact
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
