"""The trusted side of the sandboxed runner: zygote workers, each in its own slot, and runs handed to them.

A ``Pool`` starts ``jobs`` zygote processes (``grader.runner.zygote``), one
per slot: a uid reserved for this pool alone and, where the kernel offers
it, a memory cgroup (``grader.runner.slot``). ``run_session`` runs several
exercises of one submission in one child and, when the child dies on one of
them (a crash, a hang, a memory kill), goes on with the rest in a fresh
child; ``run`` is a session of one exercise. How a child's run is watched and
judged is ``grader.runner.session``.

One run, in order: ``Pool.run_session`` → ``Worker.session`` →
``session.run`` (run order to the zygote, job to the child, frames and output
back) → ``grader.runner.outcome`` parses each case.
"""

from __future__ import annotations

import itertools
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Sequence

from grader.errors import RunnerError
from grader.runner import session, wire
from grader.runner.session import RunRequest, RunResult, RunStatus  # noqa: F401 - the runner's public types
from grader.runner.slot import Slot

_READY_TIMEOUT = 300.0
_HARNESS_MB = 96
"""Memory a child's cgroup allows beyond the exercise's own allowance: the pages the harness itself
copies on write from the zygote (measured ≈40 MiB) and the decoded job."""
_WORKDIR_PREFIX = "grader-"
_WORKDIR = re.compile(r"^grader-(\d+)-")


class Worker:
    """One zygote process and the socket to it."""

    def __init__(self, workdir: Path, warm: bool, slot: Slot, environment: dict[str, str]):
        self.slot = slot
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = open(workdir / f"zygote-{id(self)}.log", "wb")  # noqa: SIM115 - lives as long as the worker
        self._process = subprocess.Popen(
            [sys.executable, "-m", "grader.runner.zygote", str(theirs.fileno()), *(["--warm"] if warm else []),
             *slot.arguments()],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            cwd=workdir,
            env=environment,
        )
        theirs.close()
        self.layers: dict | None = None

    @property
    def pid(self) -> int:
        return self._process.pid

    def wait_ready(self) -> dict:
        """Block until the zygote has imported torch; returns its sandbox report."""
        if self.layers is None:
            self._sock.settimeout(_READY_TIMEOUT)
            try:
                message = self._sock.recv(1 << 16)
            except (OSError, TimeoutError):
                message = b""
            self._sock.settimeout(None)
            if not message:
                raise RunnerError(f"the grading worker did not start: {self._log_tail()}")
            try:
                self.layers = wire.unpack_ready(message).layers
            except wire.FrameError as error:
                raise RunnerError(f"the grading worker did not start ({error})") from None
        return self.layers

    def session(self, requests: Sequence[RunRequest], scratch: Path, oom_kills) -> list[RunResult]:
        """Run ``requests`` in one child of this worker's zygote, with ``scratch`` as its writable directory."""
        self.wait_ready()
        try:
            return session.run(self._sock, requests, str(scratch), oom_kills)
        except RunnerError as error:
            raise RunnerError(f"{error}: {self._log_tail()}") from None

    def alive(self) -> bool:
        return self._process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self._process.send_signal(signal.SIGKILL)
        self._process.wait()

    def close(self) -> None:
        # shutdown() first: it wakes a thread of ours blocked on this socket (close() alone would not),
        # and the zygote, seeing its socket end, kills any child it still has and exits.
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        # Closed only once the zygote is gone: a thread still waiting on this socket must see its end,
        # not a descriptor closed under it.
        self._sock.close()
        self._log.close()

    def _log_tail(self) -> str:
        try:
            self._log.flush()
            text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        except (OSError, ValueError):  # ValueError: the log is already closed (the pool is closing)
            return "no log"
        return text[-1] if text else "no output"


class Pool:
    """``jobs`` zygote workers; ``run`` and ``run_session`` are safe to call from ``jobs`` threads at once."""

    def __init__(self, jobs: int = 1, warm: bool = False):
        """``warm``: workers spend start-up time so every run is cheaper (batch grading)."""
        from grader.runner.sandbox import environment, uids

        sweep_stale_workdirs()
        self._warm = warm
        count = max(1, jobs)
        self._workdir = Path(tempfile.mkdtemp(prefix=f"{_WORKDIR_PREFIX}{os.getpid()}-"))
        os.chmod(self._workdir, 0o711)  # children run as other users and must reach their scratch dirs
        self._lease = uids.reserve(count)
        self._cgroups = _memory_cgroups(count)
        self._environment = environment.zygote_environment(str(Path(__file__).resolve().parents[2]))
        paths = self._cgroups.paths if self._cgroups is not None else ("",) * count
        self._slots = [Slot(uid, path) for uid, path in zip(self._lease.uids, paths)]
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._workers = [Worker(self._workdir, warm, slot, self._environment) for slot in self._slots]
        for worker in self._workers:
            self._idle.put(worker)
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._closing = False

    def layers(self) -> dict:
        """What isolation the workers apply (and what is missing, with the reason)."""
        return self._workers[0].wait_ready()

    def worker_pids(self) -> tuple[int, ...]:
        """The zygotes' process ids (for tests and diagnostics)."""
        return tuple(worker.pid for worker in self._workers)

    def run(self, request: RunRequest) -> RunResult:
        """Run one exercise alone in a fresh child."""
        return self.run_session([request])[0]

    def run_session(self, requests: Sequence[RunRequest]) -> list[RunResult]:
        """Run ``requests`` one after another in one child; one result each, in order.

        An exercise that crashes, hangs or runs out of memory costs only itself: the exercises after it
        continue in a fresh child. A failure of the grader itself (a worker that dies, a child that
        cannot be confined) makes the exercises left ``sandbox_failed``, never the student's fault.
        """
        results: list[RunResult] = []
        pending = list(requests)
        while pending:
            got = self._session(pending)
            results += got
            if got[-1].status == "sandbox_failed":
                results += [got[-1]] * (len(pending) - len(got))
                break
            pending = pending[len(got):]
        return results

    def _session(self, requests: Sequence[RunRequest]) -> list[RunResult]:
        worker = self._idle.get()
        if not worker.alive() and not self._closing:
            worker = self._replace(worker)  # it died while idle (killed from outside): never hand it a run
        with self._lock:
            scratch = self._workdir / f"run-{next(self._counter)}"
        scratch.mkdir(mode=0o700)
        try:
            cgroup = worker.slot.cgroup
            if cgroup:
                self._cgroups.set_limit(cgroup, (max(r.memory_mb for r in requests) + _HARNESS_MB) << 20)
            results = worker.session(requests, scratch, lambda: self._cgroups.oom_kills(cgroup) if cgroup else 0)
            if not results:
                raise RunnerError("the grading worker returned no result")
            return results
        except RunnerError as error:
            # A dead worker is replaced so the next run has one (unless the pool is closing: Ctrl-C);
            # this exercise is the grader's failure.
            if not self._closing:
                worker.kill()
                worker = self._replace(worker)
            return [RunResult("sandbox_failed", detail=str(error)[:300])]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            self._idle.put(worker)

    def _replace(self, dead: Worker) -> Worker:
        with self._lock:
            fresh = Worker(self._workdir, self._warm, dead.slot, self._environment)
            self._workers[self._workers.index(dead)] = fresh
        return fresh

    def close(self) -> None:
        self._closing = True
        for worker in self._workers:
            worker.close()
        if self._cgroups is not None:
            self._cgroups.remove()
        self._lease.release()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _memory_cgroups(count: int):
    """One memory cgroup per slot, or None where the kernel or our privileges offer none (the layer
    report says why; RLIMIT_AS still caps each child)."""
    from grader.runner.sandbox import SandboxError, memory

    try:
        return memory.MemoryCgroups.create(count, "pool")
    except SandboxError:
        return None


def sweep_stale_workdirs(root: Path | None = None) -> None:
    """Remove the working folders of grading processes that no longer exist (killed with -9)."""
    base = Path(root or tempfile.gettempdir())
    try:
        entries = list(base.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _WORKDIR.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not _alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
