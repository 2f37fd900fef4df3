"""The one place that reaches libc through ctypes: loading it, raw syscalls, prctl, errno, /proc/self/status.

Also the kernel's numbers that more than one layer needs: prctl(2) options
and capabilities(7) bit numbers.
"""

from __future__ import annotations

import ctypes
import os
import sys

from grader.runner.sandbox.policy import SandboxError

LINUX = sys.platform.startswith("linux")

# prctl(2)
PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38

# madvise(2): back anonymous memory with huge pages (the zygote, before it forks)
MADV_HUGEPAGE, MADV_COLLAPSE = 14, 25

# capabilities(7) bit numbers
CAP_CHOWN, CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_SYS_ADMIN = 0, 6, 7, 8, 21


def libc() -> ctypes.CDLL:
    """The process's libc, with errno kept and the functions the sandbox calls already resolved."""
    lib = ctypes.CDLL(None, use_errno=True)  # the already-loaded libc: no find_library, no subprocess
    lib.syscall.restype = ctypes.c_long
    for name in ("prctl", "unshare", "mount"):
        getattr(lib, name)  # CDLL caches each function on first access
    return lib


def syscall(lib: ctypes.CDLL, nr: int, *args: int | None) -> int:
    """syscall(nr, *args) with every argument passed as a long (None as 0)."""
    return lib.syscall(ctypes.c_long(nr), *(ctypes.c_long(0 if a is None else a) for a in args))


def prctl(lib: ctypes.CDLL, option: int, *args: object) -> int:
    """prctl(option, ...) with integers passed as unsigned long and the unused arguments as 0."""
    padded = [ctypes.c_ulong(a) if isinstance(a, int) else a for a in args]
    return lib.prctl(option, *padded, *[ctypes.c_ulong(0)] * (4 - len(padded)))


def check(result: int, what: str) -> None:
    """Raise SandboxError naming ``what`` and errno unless ``result`` is 0."""
    if result != 0:
        raise_errno(what)


def raise_errno(what: str) -> None:
    """Raise SandboxError: ``what`` failed, with the strerror of the current ctypes errno."""
    errno = ctypes.get_errno()
    raise SandboxError(f"{what} failed: {os.strerror(errno)} (errno {errno})")


def read_status() -> dict[str, str]:
    """/proc/self/status as {field: value}, values stripped."""
    fd = os.open("/proc/self/status", os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 1 << 16).decode()
    finally:
        os.close(fd)
    return {key: value.strip() for key, _, value in (line.partition(":") for line in data.splitlines())}


def read_int(path: str, default: int) -> int:
    """The integer a one-line file holds, or ``default`` if it cannot be read."""
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return default


def cap_set(mask_hex: str) -> set[int]:
    """The capability bit numbers a /proc/self/status mask ("000001ffffffffff") holds."""
    mask = int(mask_hex or "0", 16)
    return {bit for bit in range(64) if mask >> bit & 1}
