"""What a forked child does: confine itself, say so, read its job, run each exercise, send back data.

Everything after ``sandbox.enter`` is untrusted: the student's code shares
this process, so nothing here holds an answer. The child tells the trusted
process it is confined by one byte on a pipe it closes at once, before any
student code runs (so only the harness could ever write it). It then reads
its job (the submission's sources and the inputs) from a pipe the trusted
process writes — the zygote never sees them — and runs the exercises one
after another, each from a fresh module and with torch's global state reset,
writing one frame per exercise on the events pipe as soon as it is done.
The function never returns: the child always ends with ``os._exit``.
"""

from __future__ import annotations

import linecache
import os
import signal
import sys
import traceback
import types
from dataclasses import dataclass

from grader.runner import calling, harvest, lifeline, sandbox, wire
from grader.runner.slot import Slot


@dataclass(frozen=True)
class ChildPipes:
    """The descriptors a child is handed (the zygote received them from the trusted process)."""

    job: int
    events: int
    confined: int
    outputs: tuple[int, ...]
    """One per exercise of the job: its stdout and stderr."""


def run_child(order: wire.RunOrder, pipes: ChildPipes, prepared: sandbox.Prepared, slot: Slot) -> None:
    """Child entry point, called right after ``os.fork()`` in the zygote."""
    status = wire.EXIT_SETUP_FAILED
    try:
        lifeline.die_with_parent()
        _first_to_go()
        os.setsid()  # its own process group: the zygote's kill takes everything it started
        _redirect_output(pipes.outputs[0])
        _reset_signals()
        _close_other_fds(keep=(0, 1, 2, pipes.job, pipes.events, pipes.confined, *pipes.outputs[1:]))
        sandbox.enter(prepared, slot.policy(order))
        os.write(pipes.confined, b"\x01")
        os.close(pipes.confined)
        status = wire.EXIT_HARNESS_FAILED
        job = wire.unpack_job(_read_all(pipes.job))
        os.close(pipes.job)
        if len(job.exercises) != len(pipes.outputs):
            raise wire.FrameError("job: not one exercise per output pipe")
        for index, exercise in enumerate(job.exercises):
            if index:
                _switch_output(pipes.outputs[index])
            _reset_torch()
            envelope = _run(exercise)
            _flush()
            _write_all(pipes.events, wire.pack_exercise(index, envelope))
        status = 0
    except BaseException:  # noqa: BLE001 - the child must always reach os._exit
        # Reaching here is the harness's failure (the student's errors are caught per case):
        # leave the traceback in the captured output for whoever investigates.
        os.write(2, traceback.format_exc().encode("utf-8", "replace"))
    finally:
        _flush()
        os._exit(status)


def _run(exercise: wire.JobExercise) -> wire.ResultEnvelope:
    """Import the submission's file from its source and run its function on every input."""
    filename, source = exercise.filename, exercise.source
    # Tracebacks show the student's own lines without the child reading the file.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(exercise.module)
    module.__file__ = filename
    sys.modules[exercise.module] = module
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # noqa: S102 - this is the sandboxed child's whole purpose
    except BaseException as error:  # noqa: BLE001 - SystemExit at import is a load error too
        return wire.ResultEnvelope("load_error", error=harvest.exception(error, filename))
    function = module.__dict__.get(exercise.function)
    if not callable(function):
        public = sorted(n for n, v in module.__dict__.items() if callable(v) and not n.startswith("_"))
        return wire.ResultEnvelope("missing_function", defined=tuple(public[:20]))
    cases = tuple(calling.run_case(exercise.protocol, function, given, filename, exercise.banned, exercise.swap,
                                   exercise.swap_seed, exercise.record_ops)
                  for given in exercise.inputs)
    return wire.ResultEnvelope("ok", cases=cases)


def _reset_torch() -> None:
    """Put back the torch-wide switches one exercise may have flipped before the next one runs.

    This keeps an honest student's ``torch.set_grad_enabled(False)`` in one exercise from breaking the
    next; it is no defence against deliberate tampering, which is why every exercise short of full
    marks is graded again alone in a fresh child.
    """
    import torch

    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)
    # Reset only when changed: setting these imports torch modules the zygote never loaded (measured:
    # use_deterministic_algorithms costs 2 s on its first call).
    if torch.is_anomaly_enabled():
        torch.autograd.set_detect_anomaly(False)
    if torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(False)
    if torch.get_default_device() != torch.device("cpu"):
        torch.set_default_device(None)


def _first_to_go() -> None:
    """Make this child the first process the kernel kills when its memory cgroup is full.

    It may have inherited the zygote's exemption (-1000, see zygote._enter_slot_cgroup); raising the score needs
    no privilege, and a cgroup whose every process is exempt would hang at its limit instead.
    """
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass  # no /proc or no OOM score here: the memory cgroup layer is missing too


def _read_all(fd: int) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > wire.MAX_JOB_BYTES + wire.FRAME_HEADER:
            raise wire.FrameError("job: too large")
        chunks.append(chunk)


def _switch_output(output_fd: int) -> None:
    """Send stdout and stderr to the next exercise's pipe (dup2 closes the previous one's copies)."""
    _flush()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)


def _redirect_output(output_fd: int) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(null)
    os.close(output_fd)


def _reset_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _close_other_fds(keep: tuple[int, ...]) -> None:
    """Close every inherited descriptor but ``keep`` (the zygote's socket above all)."""
    previous = -1
    for fd in sorted(set(keep)):
        if fd > previous + 1:  # os.closerange(n, n) closes everything on Python 3.11: never call it empty
            os.closerange(previous + 1, fd)
        previous = fd
    os.closerange(previous + 1, 1 << 20)


def scrub_import_path() -> None:
    """Keep only the interpreter's own directories on sys.path (no cwd, no course folder).

    Called once in the zygote before it forks, not in every child: walking ``sys.modules`` after
    ``import torch`` touches thousands of shared pages, ≈900 copy-on-write faults and 5.5 ms per
    child (measured). Children inherit the scrubbed state.
    """
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    sys.path[:] = [p for p in sys.path if p and any(os.path.abspath(p).startswith(r + os.sep) for r in roots)]
    for name in [n for n in sys.modules if n == "solutions" or n.startswith("solutions.")]:
        del sys.modules[name]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the student may have replaced or closed it
            pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
