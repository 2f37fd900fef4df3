"""Mount views: make the paths a child needs visible to the unprivileged uid, only when file modes hide them.

If a path the child must read lies under a directory the unprivileged uid
cannot search (here the interpreter lives in ``/root/.pyenv`` and ``/root`` is
0700), that directory is covered with an empty tmpfs *in the child's own mount
namespace* and just the needed paths are bind-mounted back. Nothing on the
host changes, and the rest of the covered directory vanishes.

The same namespace carries the scratch quota (:func:`mount_scratch`): a tmpfs
with a size and an inode cap over the run's scratch directory, so the child's
files live in memory charged to its cgroup and never reach the host's disk.
"""

from __future__ import annotations

import ctypes
import os
import stat

from grader.runner.sandbox.libc import check
from grader.runner.sandbox.policy import PROC_SELF

# mount(2), unshare(2)
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
CLONE_NEWNS = 0x00020000
# A uid/gid no file has (st_uid is unsigned): planning for it reads the "other" mode bits only.
STRANGER = -1


def plan_views(paths: tuple[str, ...], uid: int, gid: int) -> tuple[dict[str, list[str]], list[str]]:
    """Which directories hide needed paths from ``uid``: {topmost unsearchable ancestor: [paths under it]}.

    Also returns the paths no mount can help (they themselves are not readable by ``uid``).
    """
    masks: dict[str, list[str]] = {}
    unfixable: list[str] = []
    for path in paths:
        if path == PROC_SELF:
            continue  # the child's own entry: always readable by the child
        try:
            own = os.stat(path)
        except FileNotFoundError:
            continue
        if not permits(own, uid, gid, 0o5 if stat.S_ISDIR(own.st_mode) else 0o4):
            unfixable.append(path)
            continue
        ancestors = []
        walk = os.path.dirname(path)
        while True:
            ancestors.append(walk)
            if walk == "/":
                break
            walk = os.path.dirname(walk)
        blocked = next((a for a in reversed(ancestors) if not permits(os.stat(a), uid, gid, 0o1)), None)
        if blocked == "/":
            unfixable.append(path)
        elif blocked is not None:
            masks.setdefault(blocked, []).append(path)
    return masks, unfixable


def owners(paths: tuple[str, ...]) -> tuple[frozenset[int], frozenset[int]]:
    """The uids and gids owning ``paths`` and their ancestors: everything :func:`plan_views` would stat.

    For a uid and gid outside these sets, ``plan_views(paths, uid, gid) == plan_views(paths, STRANGER, STRANGER)``.
    """
    uids: set[int] = set()
    gids: set[int] = set()
    for path in paths:
        if path == PROC_SELF:
            continue
        walk = path
        while True:
            try:
                st = os.stat(walk)
            except OSError:
                pass
            else:
                uids.add(st.st_uid)
                gids.add(st.st_gid)
            if walk == "/":
                break
            walk = os.path.dirname(walk)
    return frozenset(uids), frozenset(gids)


def private_namespace(libc: ctypes.CDLL) -> None:
    """Move the calling process into a mount namespace of its own whose mounts never propagate to the host."""
    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # Private first: otherwise the tmpfs would propagate back into the host's namespace.
    check(libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "mount(/, MS_PRIVATE)")


def mount_scratch(libc: ctypes.CDLL, scratch: str, size: int, files: int, uid: int, gid: int) -> None:
    """Cover ``scratch`` with a tmpfs of ``size`` bytes holding at most ``files`` entries, owned by uid/gid, 0700.

    Call inside :func:`private_namespace`. The host directory underneath stays as it was (empty).
    """
    # The tmpfs root takes one inode of nr_inodes itself, hence the + 1.
    options = f"size={max(size, 4096)},nr_inodes={max(files, 0) + 1},mode=0700,uid={uid},gid={gid}"
    check(libc.mount(b"tmpfs", scratch.encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC),
                     options.encode()), f"mount(tmpfs, {scratch})")


def expose(libc: ctypes.CDLL, masks: dict[str, list[str]], fresh_namespace: bool = True) -> None:
    """In a private mount namespace, cover each unsearchable directory with a tmpfs and bind back what is needed.

    ``fresh_namespace=False``: the caller already made one with :func:`private_namespace`.
    """
    if fresh_namespace:
        private_namespace(libc)
    # Opened only now: a bind source must be a mount of the namespace we are in (else EINVAL).
    fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for paths in masks.values() for path in paths}
    try:
        for cover, paths in masks.items():
            check(libc.mount(b"tmpfs", cover.encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC),
                             b"mode=0755,size=64k"), f"mount(tmpfs, {cover})")
            done: list[str] = []
            for path in sorted(paths):
                if any(beneath(path, d) for d in done):
                    continue  # already visible through the bind of a parent
                parent = os.path.dirname(path)
                os.makedirs(parent, exist_ok=True)
                walk = parent
                while walk != cover:  # makedirs honours the umask; these must be searchable
                    os.chmod(walk, 0o755)
                    walk = os.path.dirname(walk)
                if stat.S_ISDIR(os.fstat(fds[path]).st_mode):
                    os.mkdir(path, 0o755)
                else:
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
                source = f"/proc/self/fd/{fds[path]}".encode()  # the original, now under the tmpfs
                check(libc.mount(source, path.encode(), None, ctypes.c_ulong(MS_BIND | MS_REC), None),
                      f"bind mount {path}")
                done.append(path)
    finally:
        for fd in fds.values():
            os.close(fd)


def permits(st: os.stat_result, uid: int, gid: int, bits: int) -> bool:
    """Classic DAC for a process with exactly this uid/gid and no groups (ACLs aside)."""
    if st.st_uid == uid:
        shift = 6
    elif st.st_gid == gid:
        shift = 3
    else:
        shift = 0
    return (st.st_mode >> shift) & bits == bits


def beneath(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies under it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip("/") + "/")
