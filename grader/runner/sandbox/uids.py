"""One uid per concurrent child: lease uids that no account, no running process and no other grader holds.

The kernel lets a process prlimit, renice, re-pin and signal any process of
the same uid, so children that share a uid can sabotage one another. The
trusted side calls :func:`reserve` once per pool (one uid per worker slot)
and passes each slot's uid as ``Policy.uid``; the child drops to it in
``enter()``. A uid is held with ``fcntl.flock`` on a per-uid lock file, so a
lease ends when :meth:`UidLease.release` runs or when its process dies,
however it dies.

The candidates, :data:`RANGE`, lie in 1879048192-2147418111, the block
systemd documents as unused (below its "foreign" range at 0x7FFF0000); each
is also checked against ``/etc/passwd``, ``/etc/group``, ``/etc/subuid``,
``/etc/subgid`` (a rootless container's processes run as those uids on the
host), the uids of running processes, and the current user namespace's map.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile

from grader.runner.sandbox.credentials import uid_mapped
from grader.runner.sandbox.policy import DEFAULT_UID, SandboxError

RANGE = range(1_900_000_000, 1_900_000_000 + 4096)
"""Where leased uids come from (gid == uid)."""
LOCK_DIR = "/run/autograd-grader/uids"
"""Root-owned directory of per-uid lock files; tempfile.gettempdir() holds a per-user fallback."""
ACCOUNT_FILES = ("/etc/passwd", "/etc/group")
SUBORDINATE_FILES = ("/etc/subuid", "/etc/subgid")


class UidLease:
    """``count`` uids held for this process until :meth:`release` (or exit). A context manager."""

    def __init__(self, uids: tuple[int, ...], fds: tuple[int, ...], distinct: bool, reason: str = "") -> None:
        self.uids = uids
        self.distinct = distinct  # False: no uid per child here, and every entry is DEFAULT_UID
        self.reason = reason  # why not, when not distinct
        self._fds = list(fds)

    def release(self) -> None:
        """Give the uids back (closing a lock file drops its flock). Idempotent."""
        while self._fds:
            os.close(self._fds.pop())

    def __enter__(self) -> UidLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"UidLease(uids={self.uids}, distinct={self.distinct})"


def available(candidates: range = RANGE) -> tuple[bool, str]:
    """Whether this process can give each child its own uid; if not, the reason in words."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False, "not running as root: the child keeps the grader's uid"
    if not (uid_mapped(candidates[0]) and uid_mapped(candidates[-1])):
        return False, (f"uids {candidates[0]}-{candidates[-1]} are not mapped in this user namespace: "
                       f"concurrent children share uid {DEFAULT_UID}")
    return True, ""


def reserve(count: int, candidates: range = RANGE, lock_dir: str | None = None) -> UidLease:
    """Lease ``count`` distinct free uids from ``candidates``.

    Where :func:`available` says no, the lease holds ``DEFAULT_UID`` ``count`` times, with ``distinct``
    False and the reason; there the child keeps the grader's uid or every child shares 65534, as
    ``Layers.missing`` says. Raises SandboxError when fewer than ``count`` candidates are free.
    """
    ok, why = available(candidates)
    if not ok:
        return UidLease((DEFAULT_UID,) * count, (), False, why)
    directory = _lock_directory(lock_dir)
    taken = _taken_ids(candidates)
    uids: list[int] = []
    fds: list[int] = []
    try:
        for uid in candidates:
            if len(uids) == count:
                break
            if uid in taken or not uid_mapped(uid):
                continue
            fd = _try_lock(directory, uid)
            if fd is not None:
                uids.append(uid)
                fds.append(fd)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    if len(uids) < count:
        for fd in fds:
            os.close(fd)
        raise SandboxError(f"only {len(uids)} of {count} uids are free in {candidates[0]}-{candidates[-1]}")
    return UidLease(tuple(uids), tuple(fds), True)


def _lock_directory(requested: str | None) -> str:
    """A directory only this euid can write to (checked, not trusted), created if needed."""
    if requested is not None:
        candidates = [requested]
    else:
        candidates = [LOCK_DIR, os.path.join(tempfile.gettempdir(), f"autograd-grader-uids-{os.geteuid()}")]
    problems = []
    for directory in candidates:
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            st = os.lstat(directory)
        except OSError as error:
            problems.append(f"{directory}: {error.strerror}")
            continue
        # Another user's directory, or one others may write to, would let them hold or steal our locks.
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            problems.append(f"{directory}: not a directory owned by uid {os.geteuid()} and writable only by it")
            continue
        return directory
    raise SandboxError("no lock directory for uid leases: " + "; ".join(problems))


def _try_lock(directory: str, uid: int) -> int | None:
    """The descriptor holding ``uid``'s lock, or None if another process holds it."""
    fd = os.open(os.path.join(directory, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


def _taken_ids(candidates: range) -> set[int]:
    """Candidates some account, subordinate range or running process already uses."""
    taken: set[int] = set()
    for path in ACCOUNT_FILES:  # name:x:id:...; gid == uid, so a group with that id counts too
        for fields in _colon_lines(path):
            if len(fields) > 2 and fields[2].isdigit() and int(fields[2]) in candidates:
                taken.add(int(fields[2]))
    for path in SUBORDINATE_FILES:  # name:first:count
        for fields in _colon_lines(path):
            if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                first, size = int(fields[1]), int(fields[2])
                taken.update(range(max(first, candidates[0]), min(first + size, candidates[-1] + 1)))
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = []
    for entry in entries:  # a leftover process still running as a candidate uid must not share it
        if entry.isdigit():
            # /proc/<pid>'s owner is root for a non-dumpable process: read its real, effective and saved uids.
            try:
                with open(f"/proc/{entry}/status") as handle:
                    ids = next((line.split()[1:4] for line in handle if line.startswith("Uid:")), [])
            except OSError:
                continue
            taken.update(int(i) for i in ids if i.isdigit() and int(i) in candidates)
    return taken


def _colon_lines(path: str) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return [line.strip().split(":") for line in handle if line.strip() and not line.startswith("#")]
    except OSError:
        return []
