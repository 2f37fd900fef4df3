"""Reading a submission's folder without trusting it: bounded walks that never follow links, capped reads of
regular files only."""

from __future__ import annotations

import os
import stat
from collections import deque
from pathlib import Path

from grader.core.sources import MAX_SOURCE_BYTES


def walk(top: Path, max_depth: int, max_entries: int):
    """(depth, folder, regular file names, capped so far) for each folder under ``top``, breadth first.

    Iterative, never following links, skipping hidden and ``__`` folders, and stopping at ``max_depth``
    levels or ``max_entries`` entries: a submission of a thousand nested folders costs a bounded walk,
    not the recursion limit. Files nearer the top are found first, which is the one that counts.
    """
    queue: deque[tuple[int, Path]] = deque([(0, top)])
    seen, capped = 0, False
    while queue:
        depth, folder = queue.popleft()
        names: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    seen += 1
                    if seen > max_entries:
                        capped = True
                        break
                    if entry.is_symlink():
                        continue  # a link is never a student's own file
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name.startswith((".", "__")):
                            continue
                        if depth + 1 > max_depth:
                            capped = True
                            continue
                        queue.append((depth + 1, Path(entry.path)))
                    elif entry.is_file(follow_symlinks=False):
                        names.append(entry.name)
        except OSError:
            continue  # an unreadable folder holds nothing we can grade
        yield depth, folder, names, capped
        if seen > max_entries:
            return


def read_regular_file(path: Path, cap: int = MAX_SOURCE_BYTES + 1) -> bytes:
    """Read at most ``cap`` bytes of a regular file, never through a symbolic link (nor from a FIFO)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(cap)
    finally:
        os.close(fd)
