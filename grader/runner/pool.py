"""The trusted side of the sandboxed runner: zygote workers, one request per run, results as data.

A ``Pool`` starts ``jobs`` zygote processes (``grader.runner.zygote``) and hands each
run to an idle one. For every run it makes two pipes — one for the result
frame, one for the child's stdout/stderr — and passes their write ends to
the zygote with SCM_RIGHTS, so the child's bytes flow straight to this
process and the zygote never holds them. This process reads both pipes
concurrently (a chatty child never blocks), keeps a capped excerpt of the
output, and trusts nothing it reads: the result must be one complete frame,
from a child that exited 0, that parses as a harvest.

One run, in order: ``Pool.run`` → ``Worker.run`` sends ``wire.pack_request``
(built by ``request_header``) → ``Worker._collect`` reads the pipes and the
zygote's ``wire.ChildExit`` → ``_interpret`` judges the exit and reads the
frame with ``wire.unpack_result`` → ``_from_envelope`` parses each case with
``grader.runner.outcome``.
"""

from __future__ import annotations

import itertools
import os
import queue
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from grader.errors import RunnerError
from grader.runner import wire

# torch-dependent modules (outcome) are imported inside the functions that need them: `grader check`
# starts its zygote first and imports torch afterwards, so the two imports overlap on two cores.
# grader.runner.wire imports torch only when it encodes or decodes a payload.
if TYPE_CHECKING:
    import torch

    from grader.runner.outcome import CaseRun, ErrorInfo

OUTPUT_CAP = 16 << 10
"""Bytes of a child's stdout/stderr kept for feedback; the rest is drained and counted."""
_READY_TIMEOUT = 300.0
_GRACE = 2.0
"""Seconds to wait for pipe EOF after the zygote reported the child gone."""

RunStatus = Literal[wire.ResultStatus, "timeout", "crashed", "no_result", "invalid_result", "sandbox_failed"]
"""How a run ended: as the child reported it (``wire.ResultStatus``), or as this process judged it."""


@dataclass(frozen=True)
class RunRequest:
    """One exercise of one submission, to run in a fresh sandboxed child."""

    exercise_id: str
    protocol: str
    function: str
    source: str
    filename: str
    """The path shown in tracebacks (the student's own file name)."""
    inputs: tuple["torch.Tensor", ...]
    timeout: float
    memory_mb: int
    readable: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    """How one run ended, with everything the child sent back validated."""

    status: RunStatus
    cases: tuple["CaseRun", ...] = ()
    error: "ErrorInfo | None" = None
    defined: tuple[str, ...] = ()
    exit_code: int | None = None
    output: str = ""
    output_dropped: int = 0
    wall: float = 0.0
    max_rss_kb: int = 0
    detail: str = ""


@dataclass
class _Collected:
    result: bytearray = field(default_factory=bytearray)
    result_oversized: bool = False
    output: bytearray = field(default_factory=bytearray)
    output_dropped: int = 0
    exit: wire.ChildExit | None = None


class Worker:
    """One zygote process and the socket to it."""

    def __init__(self, workdir: Path, warm: bool = False):
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = open(workdir / f"zygote-{id(self)}.log", "wb")  # noqa: SIM115 - lives as long as the worker
        self._process = subprocess.Popen(
            [sys.executable, "-m", "grader.runner.zygote", str(theirs.fileno()), *(["--warm"] if warm else [])],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            cwd=workdir,
            env=_worker_environment(),
        )
        theirs.close()
        self.layers: dict | None = None

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

    def run(self, request: RunRequest, scratch: Path) -> RunResult:
        """Run ``request`` in a child of this worker's zygote, with ``scratch`` as its writable directory."""
        self.wait_ready()
        message = wire.pack_request(request_header(request, scratch), wire.dump_inputs(request.inputs))
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        try:
            try:
                socket.send_fds(self._sock, [message], [result_w, output_w])
            except OSError as error:
                raise RunnerError(f"the grading worker is gone ({error.strerror}): {self._log_tail()}") from None
            finally:
                os.close(result_w)
                os.close(output_w)
            collected = self._collect(result_r, output_r, request.timeout)
        finally:
            for fd in (result_r, output_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
        return _interpret(collected, len(request.inputs))

    def _collect(self, result_r: int, output_r: int, timeout: float) -> _Collected:
        """Read both pipes until they close and the zygote has reported the child's exit."""
        collected = _Collected()
        selector = selectors.DefaultSelector()
        selector.register(result_r, selectors.EVENT_READ, "result")
        selector.register(output_r, selectors.EVENT_READ, "output")
        selector.register(self._sock, selectors.EVENT_READ, "status")
        open_pipes = 2
        try:
            while open_pipes or collected.exit is None:
                wait = _GRACE if collected.exit is not None else timeout + 60
                events = selector.select(wait)
                if not events:
                    if collected.exit is not None:
                        break  # something the child started still holds a pipe; stop listening
                    self.kill()
                    raise RunnerError("the grading worker stopped answering")
                for key, _ in events:
                    if key.data == "status":
                        message = self._sock.recv(1 << 16)
                        if not message:
                            raise RunnerError(f"the grading worker died: {self._log_tail()}")
                        try:
                            collected.exit = wire.unpack_exit(message)
                        except wire.FrameError as error:
                            raise RunnerError(f"the grading worker answered nonsense ({error})") from None
                        selector.unregister(self._sock)
                        continue
                    chunk = os.read(key.fd, 1 << 16)
                    if not chunk:
                        selector.unregister(key.fd)
                        open_pipes -= 1
                    elif key.data == "result":
                        if len(collected.result) + len(chunk) > wire.MAX_RESULT_BYTES + 64:
                            collected.result_oversized = True
                        else:
                            collected.result += chunk
                    else:
                        room = max(0, OUTPUT_CAP - len(collected.output))
                        collected.output += chunk[:room]
                        collected.output_dropped += max(0, len(chunk) - room)
        finally:
            selector.close()
        return collected

    def alive(self) -> bool:
        return self._process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self._process.send_signal(signal.SIGKILL)
        self._process.wait()

    def close(self) -> None:
        self._sock.close()  # the zygote exits when its socket closes
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self._log.close()

    def _log_tail(self) -> str:
        try:
            self._log.flush()
            text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return text[-1] if text else "no output"


class Pool:
    """``jobs`` zygote workers; ``run`` is safe to call from ``jobs`` threads at once.

    Create it from the main thread (or one that outlives it): each worker is
    tied to the life of the thread that started it.
    """

    def __init__(self, jobs: int = 1, warm: bool = False):
        """``warm``: workers spend start-up time so every run is cheaper (batch grading)."""
        self._warm = warm
        self._workdir = Path(tempfile.mkdtemp(prefix="grader-"))
        os.chmod(self._workdir, 0o711)  # children run as another user and must reach their scratch dirs
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._workers = [Worker(self._workdir, warm) for _ in range(max(1, jobs))]
        for worker in self._workers:
            self._idle.put(worker)
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def layers(self) -> dict:
        """What isolation the workers apply (and what is missing, with the reason)."""
        return self._workers[0].wait_ready()

    def run(self, request: RunRequest) -> RunResult:
        worker = self._idle.get()
        with self._lock:
            scratch = self._workdir / f"run-{next(self._counter)}"
        scratch.mkdir(mode=0o700)
        try:
            return worker.run(request, scratch)
        except RunnerError:
            # A dead worker is replaced so the next run has one; this run is reported by the caller.
            worker.kill()
            worker = self._replace(worker)
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            self._idle.put(worker)

    def _replace(self, dead: Worker) -> Worker:
        with self._lock:
            fresh = Worker(self._workdir, self._warm)
            self._workers[self._workers.index(dead)] = fresh
        return fresh

    def close(self) -> None:
        for worker in self._workers:
            worker.close()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def request_header(request: RunRequest, scratch: Path) -> wire.RequestHeader:
    """What a zygote (and the child it forks) is told about a run, besides the input tensors."""
    return wire.RequestHeader(
        exercise_id=request.exercise_id,
        protocol=request.protocol,
        function=request.function,
        module=f"submission_{request.exercise_id}",
        source=request.source,
        filename=request.filename,
        timeout=float(request.timeout),
        memory_mb=request.memory_mb,
        readable=tuple(request.readable),
        scratch=str(scratch),
    )


def _worker_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TORCH_FORCE")}
    # One OpenMP thread before any op: a child forked after OpenMP started its thread pool deadlocks.
    # OpenBLAS (numpy, imported by torch) would otherwise start idle threads in every zygote.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1", PYTHONSAFEPATH="1")
    package_root = str(Path(__file__).resolve().parents[2])  # the directory holding grader/
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    return env


def _interpret(collected: _Collected, case_count: int) -> RunResult:
    """Judge a finished run: first how the child ended, then (if it exited 0) the frame it sent."""
    from grader.runner.outcome import InvalidResult

    ended = collected.exit
    if ended is None:  # _collect returns only once the zygote has reported
        raise RunnerError("the grading worker did not report the run's end")
    exit_code = ended.exit_code
    common = {
        "exit_code": exit_code,
        "output": collected.output.decode("utf-8", errors="replace"),
        "output_dropped": collected.output_dropped,
        "wall": ended.wall,
        "max_rss_kb": ended.max_rss_kb,
    }
    if ended.timed_out:
        return RunResult("timeout", **common)
    if exit_code == wire.EXIT_SANDBOX_FAILED:
        return RunResult("sandbox_failed", **common)
    if exit_code == wire.EXIT_HARNESS_FAILED and not collected.result:
        return RunResult("invalid_result", detail="the result could not be recorded", **common)
    if exit_code < 0:
        if -exit_code == signal.SIGXCPU:
            return RunResult("timeout", **common)
        return RunResult("crashed", detail=_signal_name(-exit_code), **common)
    if collected.result_oversized:
        return RunResult("invalid_result", detail="result larger than allowed", **common)
    if exit_code != 0 or not collected.result:
        return RunResult("no_result", **common)
    try:
        return _from_envelope(wire.unpack_result(bytes(collected.result), case_count), common)
    except (wire.FrameError, InvalidResult) as error:
        return RunResult("invalid_result", detail=str(error)[:300], **common)


def _from_envelope(envelope: wire.ResultEnvelope, common: dict) -> RunResult:
    """The run as the child reported it, every case and error checked by ``grader.runner.outcome``."""
    from grader.runner.outcome import parse_case, parse_error

    if envelope.status == "ok":
        return RunResult("ok", cases=tuple(parse_case(case) for case in envelope.cases), **common)
    if envelope.status == "load_error":
        return RunResult("load_error", error=parse_error(envelope.error), **common)
    return RunResult("missing_function", defined=envelope.defined, **common)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal between SIGRTMIN and SIGRTMAX has no name of its own
        return f"signal {number}"
