"""One child's run, seen from the trusted side: send the job, watch the pipes, judge each exercise.

A child runs the exercises of one job in order and writes one frame per
exercise as it finishes. This module times each exercise from the previous
frame (or from the child's confinement marker) and asks the zygote to kill
the child when the exercise in progress overruns its own budget; it reads
every exercise's own output pipe concurrently (so a chatty child never
blocks), keeping a capped excerpt of what each printed; and it trusts
nothing it reads. When the child is gone, every exercise that sent
a complete, valid frame has its result, the one in progress is judged from
how the child ended, and the rest are left for a fresh child.

Only the trusted side decides that the grader failed: a child that never
sent its confinement marker failed before any student code ran. Once the
marker is in, every way of ending — a reserved exit status included — is
the student's.
"""

from __future__ import annotations

import dataclasses
import os
import selectors
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal, Sequence

from grader.errors import RunnerError
from grader.runner import wire

if TYPE_CHECKING:
    import torch

    from grader.runner.outcome import CaseRun, ErrorInfo

OUTPUT_CAP = 16 << 10
"""Bytes of an exercise's stdout/stderr kept for feedback; the rest is drained and counted."""
GRACE = 2.0
"""Seconds to wait for pipe EOF after the zygote reported the child gone."""
_SILENCE = 60.0
"""Seconds past every budget after which a zygote that says nothing is taken for dead."""

RunStatus = Literal[wire.ResultStatus, "timeout", "crashed", "out_of_memory", "no_result", "invalid_result",
                    "sandbox_failed"]
"""How an exercise's run ended: as the child reported it (``wire.ResultStatus``), or as this process judged it.
``sandbox_failed`` is the grader's failure, never the student's."""


@dataclass(frozen=True)
class RunRequest:
    """One exercise of one submission, to run in a sandboxed child."""

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
    banned: tuple[str, ...] = ()
    """The exercise's banned functions, whose values the child's recorder looks for."""
    swap: tuple[str, ...] = ()
    """Graph nodes the swap run scales the derivative of (grader.runner.swap), with its seed; () for none."""
    swap_seed: int = 0
    record_ops: bool = True
    """False: a light run (the recorder without its dispatch mode), for a shared first run."""


@dataclass(frozen=True)
class RunResult:
    """How one exercise's run ended, with everything the child sent back validated."""

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
    first: bool = False
    """The exercise ran first in its child: nothing of another exercise ran in that process before it."""


@dataclass
class _Watch:
    """What one run's pipes have said so far."""

    count: int
    confined: bool = False
    clock: float = 0.0
    """When the exercise in progress started (the marker, then each frame)."""
    done: list[tuple[wire.ResultEnvelope, float]] = field(default_factory=list)
    events: bytearray = field(default_factory=bytearray)
    outputs: list[bytearray] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    broken: str = ""
    """Why the events pipe stopped making sense ('' while it does)."""
    overran: bool = False
    exit: wire.ChildExit | None = None

    def __post_init__(self) -> None:
        self.outputs = [bytearray() for _ in range(self.count)]
        self.dropped = [0] * self.count

    @property
    def current(self) -> int:
        return len(self.done)


def run(sock: socket.socket, requests: Sequence[RunRequest], scratch: str,
        oom_kills: Callable[[], int]) -> list[RunResult]:
    """Run ``requests`` in one child of the zygote behind ``sock``.

    Returns one result per exercise attempted, in order: those that finished, then the one in progress
    when the child ended (if any). RunnerError when the zygote itself fails.
    """
    job = wire.pack_job(wire.Job(tuple(
        wire.JobExercise(r.exercise_id, r.protocol, r.function, f"submission_{r.exercise_id}", r.source,
                         r.filename, tuple(r.inputs), tuple(r.banned), tuple(r.swap), r.swap_seed,
                         r.record_ops)
        for r in requests)))
    budget = sum(r.timeout for r in requests)
    order = wire.RunOrder(scratch=scratch, wall_seconds=budget + 5.0, cpu_seconds=int(budget) + 2,
                          memory_mb=max(r.memory_mb for r in requests),
                          readable=tuple(dict.fromkeys(p for r in requests for p in r.readable)),
                          exercises=len(requests))
    ours: dict[object, int] = {}
    theirs: list[int] = []
    for name in ("job", "events", "confined", *(("output", i) for i in range(len(requests)))):
        read_end, write_end = os.pipe()
        ours[name] = write_end if name == "job" else read_end
        theirs.append(read_end if name == "job" else write_end)
    kills_before = oom_kills()
    try:
        try:
            socket.send_fds(sock, [wire.pack_order(order)], theirs)
        except OSError as error:
            raise RunnerError(f"the grading worker is gone ({error.strerror})") from None
        finally:
            for fd in theirs:
                os.close(fd)
        writer = threading.Thread(target=_feed, args=(ours.pop("job"), job), daemon=True)
        writer.start()
        watch = _collect(sock, ours, requests)
        writer.join(timeout=GRACE)
    finally:
        for fd in ours.values():
            try:
                os.close(fd)
            except OSError:
                pass
    return _judge(watch, requests, oom_kills() > kills_before)


def _feed(fd: int, data: bytes) -> None:
    """Write the job into the child's pipe; a child that died or stopped reading just ends it."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass
    finally:
        os.close(fd)


def _collect(sock: socket.socket, fds: dict[object, int], requests: Sequence[RunRequest]) -> _Watch:
    watch = _Watch(count=len(requests), clock=time.monotonic())
    selector = selectors.DefaultSelector()
    for name, fd in fds.items():
        selector.register(fd, selectors.EVENT_READ, name)
    selector.register(sock, selectors.EVENT_READ, "status")
    open_pipes = len(fds)
    backstop = time.monotonic() + sum(r.timeout for r in requests) + _SILENCE
    try:
        while open_pipes or watch.exit is None:
            now = time.monotonic()
            if watch.exit is not None:
                wait = GRACE
            elif watch.confined and not watch.overran and not watch.broken and watch.current < len(requests):
                wait = max(0.0, watch.clock + requests[watch.current].timeout - now)
            else:
                wait = max(0.0, backstop - now)
            events = selector.select(wait)
            if not events:
                if watch.exit is not None:
                    break  # something still holds a pipe; stop listening
                if time.monotonic() >= backstop:
                    raise RunnerError("the grading worker stopped answering")
                if watch.confined and not watch.overran and not watch.broken:
                    watch.overran = True  # the exercise in progress is past its own budget
                    _send_kill(sock)
                continue
            for key, _ in events:
                if key.data == "status":
                    watch.exit = _read_exit(sock)
                    selector.unregister(sock)
                    continue
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                    open_pipes -= 1
                elif key.data == "confined":
                    if not watch.confined:
                        watch.confined, watch.clock = True, time.monotonic()
                elif key.data == "events":
                    _take_frames(watch, chunk, requests, sock)
                else:  # ("output", i): what exercise i printed, on a pipe of its own
                    slot = key.data[1]
                    room = max(0, OUTPUT_CAP - len(watch.outputs[slot]))
                    watch.outputs[slot] += chunk[:room]
                    watch.dropped[slot] += max(0, len(chunk) - room)
    finally:
        selector.close()
    return watch


def _take_frames(watch: _Watch, chunk: bytes, requests: Sequence[RunRequest], sock: socket.socket) -> None:
    """Read every complete exercise frame now on the events pipe; anything else breaks the run."""
    from grader.runner.outcome import InvalidResult

    if watch.broken or watch.overran:
        return  # the child is being killed; what it still sends counts for nothing
    watch.events += chunk
    while watch.current < len(requests):
        try:
            length = wire.frame_length(watch.events)
            if length is None or len(watch.events) < length:
                return
            data = bytes(watch.events[:length])
            del watch.events[:length]
            index, envelope = wire.unpack_exercise(data, len(requests[watch.current].inputs))
            if index != watch.current:
                raise wire.FrameError(f"a result for exercise {index} where {watch.current} was due")
        except (wire.FrameError, InvalidResult) as error:
            watch.broken = str(error)[:300]
            _send_kill(sock)
            return
        now = time.monotonic()
        watch.done.append((envelope, round(now - watch.clock, 4)))
        watch.clock = now
    if watch.events:
        watch.broken = "more results than exercises"
        _send_kill(sock)


def _send_kill(sock: socket.socket) -> None:
    try:
        sock.sendall(wire.pack_kill())
    except OSError:
        pass  # the zygote is gone; its end of the run shows on the socket


def _read_exit(sock: socket.socket) -> wire.ChildExit:
    try:
        message = sock.recv(1 << 16)
    except OSError:  # the pool is closing this worker (Ctrl-C): the socket is shut down under us
        message = b""
    if not message:
        raise RunnerError("the grading worker died")
    try:
        return wire.unpack_exit(message)
    except wire.FrameError as error:
        raise RunnerError(f"the grading worker answered nonsense ({error})") from None


def _judge(watch: _Watch, requests: Sequence[RunRequest], oom: bool) -> list[RunResult]:
    """One result per attempted exercise: every complete frame, then the exercise the child ended in."""
    results = _judged(watch, requests, oom)
    return [dataclasses.replace(results[0], first=True), *results[1:]] if results else results


def _judged(watch: _Watch, requests: Sequence[RunRequest], oom: bool) -> list[RunResult]:
    ended = watch.exit
    if ended is None:  # _collect returns only once the zygote has reported
        raise RunnerError("the grading worker did not report the run's end")

    def common(index: int, wall: float) -> dict:
        return {"exit_code": ended.exit_code, "wall": wall, "max_rss_kb": ended.max_rss_kb,
                "output": watch.outputs[index].decode("utf-8", errors="replace"),
                "output_dropped": watch.dropped[index]}

    results = [_from_envelope(envelope, common(i, wall)) for i, (envelope, wall) in enumerate(watch.done)]
    index = watch.current
    if index >= len(requests):
        return results
    if not watch.confined:
        # No marker: the child failed before any student code ran. Every exercise left is the grader's.
        detail = f"the child could not be confined (exit {ended.exit_code})"
        return results + [RunResult("sandbox_failed", detail=detail, **common(i, 0.0))
                          for i in range(index, len(requests))]
    here = common(index, round(min(time.monotonic() - watch.clock, ended.wall), 4))
    if watch.overran or ended.timed_out:
        here["wall"] = requests[index].timeout
        return results + [RunResult("timeout", **here)]
    if watch.broken:
        return results + [RunResult("invalid_result", detail=watch.broken, **here)]
    code = ended.exit_code
    if code < 0 and -code == signal.SIGXCPU:
        return results + [RunResult("timeout", **here)]
    if code < 0 and oom:
        return results + [RunResult("out_of_memory", detail=f"{requests[index].memory_mb} MiB", **here)]
    if code < 0:
        return results + [RunResult("crashed", detail=_signal_name(-code), **here)]
    # Any other end — exit statuses the harness itself uses (wire.EXIT_*) included, which student code
    # can fake — is the student's: the process ended before this exercise's result was written.
    return results + [RunResult("no_result", **here)]


def _from_envelope(envelope: wire.ResultEnvelope, common: dict) -> RunResult:
    """The run as the child reported it, every case and error checked by ``grader.runner.outcome``."""
    from grader.runner.outcome import InvalidResult, parse_case, parse_error

    try:
        if envelope.status == "ok":
            return RunResult("ok", cases=tuple(parse_case(case) for case in envelope.cases), **common)
        if envelope.status == "load_error":
            return RunResult("load_error", error=parse_error(envelope.error), **common)
        return RunResult("missing_function", defined=envelope.defined, **common)
    except InvalidResult as error:
        return RunResult("invalid_result", detail=str(error)[:300], **common)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal between SIGRTMIN and SIGRTMAX has no name of its own
        return f"signal {number}"
