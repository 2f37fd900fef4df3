"""The Landlock layer: which files the child may read or write, and (by ABI) TCP, signals and abstract sockets.

Read-only: the interpreter's prefixes and site-packages, ``/usr``, ``/etc``,
``/proc/self``, ``/dev/null|urandom`` and the policy's readable paths;
read-write: scratch; nothing else, so ``solutions/``, other submissions and
the output directory cannot be read. Landlock restricts root too. ABI ≥ 4 also
denies every TCP bind/connect (Landlock does not cover UDP: seccomp does);
ABI ≥ 6 scopes signals and abstract unix sockets to the child's own domain.

Landlock checks at open time: descriptors opened before :func:`restrict` stay usable.
"""

from __future__ import annotations

import ctypes
import os
import stat

from grader.runner.sandbox.libc import raise_errno, syscall
from grader.runner.sandbox.policy import DEV_NULL, SandboxError

# linux/landlock.h; the syscall numbers are the same on x86_64 and aarch64.
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
FS_MAKE_SYM, FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
FS_READ = FS_READ_FILE | FS_READ_DIR
# No EXECUTE anywhere: the child has no business running programs (and cannot fork anyway).
FS_SCRATCH = (FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR
              | FS_MAKE_REG | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)
# Only these rights apply to a rule on a non-directory (the kernel rejects others with EINVAL).
FS_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
# open(os.devnull, "w") truncates, so /dev/null needs TRUNCATE as well as write.
FS_DEVNULL = FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def probe_abi(libc: ctypes.CDLL) -> int:
    """The Landlock ABI version this kernel offers; 0 when it offers none (disabled or older than 5.13)."""
    version = syscall(libc, SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return version if version > 0 else 0


def restrict(libc: ctypes.CDLL, abi: int, system_paths: tuple[str, ...], readable: tuple[str, ...],
             scratch: str) -> None:
    """Confine the calling thread (and what it forks) to reading the given paths and writing ``scratch``.

    Needs no_new_privs unless the caller has CAP_SYS_ADMIN. Raises SandboxError on failure.
    """
    handled = (FS_REFER - 1) | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    handled |= FS_IOCTL_DEV if abi >= 5 else 0
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    if abi >= 4:  # handled but never granted: every TCP bind and connect is refused
        attr.handled_access_net, size = NET_BIND_TCP | NET_CONNECT_TCP, 16
    if abi >= 6:  # no signals to, no abstract-socket connections with, processes outside this sandbox
        attr.scoped, size = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL, 24
    ruleset = syscall(libc, SYS_LANDLOCK_CREATE_RULESET, ctypes.addressof(attr), size, 0)
    if ruleset < 0:
        raise_errno("landlock_create_ruleset")
    try:
        rules = [(p, FS_DEVNULL if p == DEV_NULL else FS_READ) for p in system_paths]
        rules += [(p, FS_READ) for p in readable] + [(scratch, FS_SCRATCH)]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                if path in system_paths:  # a system path that vanished grants nothing; no reason to fail
                    continue
                raise SandboxError(f"readable path {path} does not exist") from None
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    access &= FS_FILE_ONLY
                rule = _PathBeneathAttr(access & handled, fd)
                if syscall(libc, SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                           ctypes.addressof(rule), 0) != 0:
                    raise_errno(f"landlock_add_rule({path})")
            finally:
                os.close(fd)
        if syscall(libc, SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise_errno("landlock_restrict_self")
    finally:
        os.close(ruleset)
