"""The notebook's long-lived checking pool: one zygote kept warm between ``grader.check()`` calls.

A fresh ``Pool`` costs a torch import (≈1–2 s) in its zygote; a check on a warm
one costs tens of milliseconds. ``SESSION`` keeps one pool for the life of the
interpreter, starts a new one when its zygote has died, and closes it at exit.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from grader.errors import GraderError
from grader.runner.pool import Pool

ZYGOTE_MODULE = b"grader.runner.zygote"
"""What a zygote's command line names (``python -m grader.runner.zygote FD``): how a zygote is told apart."""


class NotebookSession:
    """The one pool a Python interpreter keeps for ``grader.check()``; use the module's ``SESSION``.

    One per interpreter is the right scope because the kernel is the session: a
    notebook's cells all run in one kernel process, so a pool kept per kernel
    is shared by every check the student runs, and it ends exactly when the
    kernel does (restart, shutdown), which is also when ``atexit`` runs. A
    narrower scope (per call) pays the torch import every time; a wider one
    (a daemon shared by kernels) would outlive the notebook and mix students'
    kernels. Its state — the pool, the zygote pids it owns, the process that
    made it — is the only module-level mutable state of the notebook path.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: Pool | None = None
        self._owner = 0
        """The pid that started the pool: a forked copy of this interpreter must not use or close it."""
        self._owned: frozenset[int] = frozenset()
        self._at_exit = False

    @contextmanager
    def borrow(self) -> Iterator[Pool]:
        """The warm pool for one check, started (or restarted, if its zygote died) as needed.

        Outside the main thread a one-off pool is used instead: a worker's life is
        tied to the thread that started it, and only the main thread lives as long
        as the kernel.
        """
        if threading.current_thread() is not threading.main_thread():
            with Pool(jobs=1) as pool:
                yield pool
            return
        with self._lock:
            before = zygote_children(os.getpid())
            pool = self._live_pool(before)
            try:
                yield pool
            except GraderError:
                raise  # the course's fault (a broken reference, say), not the pool's
            except BaseException:
                # An interrupted run (Ctrl-C in the kernel) can leave an answer unread on the
                # worker's socket; a fresh pool next time is cheaper than a wrong report.
                self._close_locked()
                raise
            after = zygote_children(os.getpid())
            # The pool replaces a worker that failed mid-run; a zygote born during this check is ours.
            self._owned = (self._owned & after) | (after - before)

    def zygote_pids(self) -> tuple[int, ...]:
        """The live zygote processes of the session's pool (empty when none is running)."""
        with self._lock:
            if self._pool is None or self._owner != os.getpid():
                return ()
            return tuple(sorted(self._owned & zygote_children(os.getpid())))

    def close(self) -> None:
        """Stop the pool's zygote (registered with ``atexit``; safe to call twice)."""
        with self._lock:
            self._close_locked()

    def _live_pool(self, children: frozenset[int]) -> Pool:
        if self._pool is not None and self._owner == os.getpid() and self._owned & children:
            return self._pool
        self._close_locked()
        pool = Pool(jobs=1, warm=True)  # one warm-up per kernel: later checks skip torch's first-use imports
        self._pool, self._owner = pool, os.getpid()
        self._owned = zygote_children(os.getpid()) - children
        if not self._at_exit:
            atexit.register(self.close)
            self._at_exit = True
        return pool

    def _close_locked(self) -> None:
        pool, self._pool, self._owned = self._pool, None, frozenset()
        if pool is not None and self._owner == os.getpid():
            pool.close()


SESSION = NotebookSession()
"""The interpreter's notebook session (see NotebookSession for why there is exactly one)."""


def zygote_children(parent: int) -> frozenset[int]:
    """Pids of the live zygotes whose parent is ``parent``, read from /proc (empty where there is none)."""
    found = set()
    for pid in _children(parent):
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
            state, ppid = stat[stat.rindex(b")") + 2:].split()[:2]
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read()
        except (OSError, ValueError):
            continue  # it ended while we looked
        # A zombie's command line is empty; the state is checked too, for clarity.
        if int(ppid) == parent and state not in (b"Z", b"X") and ZYGOTE_MODULE in command:
            found.add(pid)
    return frozenset(found)


def _children(parent: int) -> set[int]:
    """Candidate child pids: the kernel's per-thread child lists, or every process when it keeps none."""
    pids: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{parent}/task")
    except OSError:
        return pids
    try:
        for task in tasks:
            with open(f"/proc/{parent}/task/{task}/children", "rb") as handle:
                pids.update(int(pid) for pid in handle.read().split())
        return pids
    except FileNotFoundError:
        # Kernels built without CONFIG_PROC_CHILDREN: scan all (the parent is checked by the caller).
        return {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}
    except OSError:
        return pids
