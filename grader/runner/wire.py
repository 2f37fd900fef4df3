"""Every message between the trusted process, a zygote and its children.

The trusted process (``grader.runner.pool``) talks to each zygote
(``grader.runner.zygote``) over a SOCK_SEQPACKET socket, one message per
datagram. For each run the zygote forks one child (``grader.runner.child``),
which runs one or more exercises of one submission in sequence. Everything a
child receives or sends travels on pipes the trusted process owns, so a
zygote never holds a submission's source, inputs or results. In the order
they travel:

``ZygoteReady`` (zygote → pool, once torch is imported and the sandbox
    prepared): JSON ``{"ready": true, "layers": {...}}``, ``layers`` being
    ``sandbox.describe()``. ``pack_ready`` / ``unpack_ready``.
``RunOrder`` (pool → zygote, one per run, with pipe ends attached by
    SCM_RIGHTS: the job's read end, the events' and the confinement marker's
    write ends, then one output pipe's write end per exercise): JSON
    ``{"scratch", "wall_seconds", "cpu_seconds", "memory_mb", "readable",
    "exercises"}`` — where the child may write, the backstop on its whole
    run's wall clock, its RLIMIT_CPU, its address space allowance, extra
    read-only paths, how many exercises (and so output pipes) there are. Each
    exercise's stdout and stderr go to its own pipe, so what one exercise
    printed is never shown beside another. ``pack_order`` / ``unpack_order``.
confinement marker (child → pool): one byte, written once ``sandbox.enter``
    returned, before any student code runs; the child closes that pipe at
    once, so the student's code never holds it. A run that ends without it
    is the grader's failure; with it, whatever happens next is the student's.
``Job`` (pool → child, on the job pipe, read once the child is confined):
    one frame holding ``{"exercises": [{"exercise_id", "protocol",
    "function", "module", "source", "filename", "inputs": [tensor, ...],
    "banned": [name, ...]}]}``.
    ``pack_job`` / ``unpack_job``.
``ExerciseFrame`` (child → pool, on the events pipe, one per exercise as it
    finishes): a frame of ``{"index": i, "result": envelope}``. An envelope
    is ``{"status": "ok", "cases": [case, ...]}`` (one per input),
    ``{"status": "load_error", "error": error}`` or ``{"status":
    "missing_function", "defined": [name, ...]}`` (≤ 20 public callables).
    A *case* is ``{"error": error | None, "stage": Stage, "returned": value,
    "grad": value, "facts": facts | None}`` (``grader.runner.calling``; *facts*
    from ``grader.runner.recorder``, read by ``grader.runner.facts.parse_facts``); a *value* ``{"kind":
    ValueKind, ...}`` and an *error* ``{"type", "message", "frames",
    "module"?}`` come from ``grader.runner.harvest``, and
    ``grader.runner.outcome`` reads them. ``pack_exercise`` /
    ``unpack_exercise``.
``KillOrder`` (pool → zygote): ``{"kill": true}``, when the exercise in
    progress overran its own time budget (the pool times each exercise from
    the previous frame). ``pack_kill`` / ``unpack_control``.
``ChildExit`` (zygote → pool, one per run, once the child is reaped):
    JSON ``{"exit_code", "timed_out", "killed", "max_rss_kb", "wall"}``.
    ``pack_exit`` / ``unpack_exit``.

Every reader is total: a field missing, extra or of the wrong type (a bool
for an int), a NaN, negative or absurdly large number raises ``FrameError``.
The payload codec under the frames is ``grader.runner.payload``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

from grader.runner.payload import (  # noqa: F401 - re-exported: the wire's codec and frames
    FRAME_HEADER,
    LENGTH,
    MAGIC,
    MAX_RESULT_BYTES,
    FrameError,
    dump,
    frame,
    load,
    unframe,
)

if TYPE_CHECKING:
    import torch

MAX_ORDER_BYTES = 64 << 10
MAX_EXERCISES = 64
"""Exercises one job may hold (each brings one pipe end on the socket, and SCM_RIGHTS carries ≤ 253)."""
MAX_JOB_BYTES = 64 << 20
"""A job's sources and inputs together (each source is capped at 1 MiB before it gets here)."""
EXIT_SETUP_FAILED = 70
"""A child's exit status when it failed before confining itself (also seen as: no confinement marker)."""
EXIT_HARNESS_FAILED = 71
"""A child's exit status when a result could not be recorded (the traceback is in its captured output)."""
_MAX_SECONDS = 1e9
"""Above any real budget, below what select() and RLIMIT_CPU accept."""
_MAX_COUNT = 1 << 62
_MAX_MEMORY_MB = (1 << 43) - 1
"""The largest allowance whose size in bytes still fits an rlimit."""

ResultStatus = Literal["ok", "load_error", "missing_function"]
"""How one exercise's run ended, as the child itself reports it."""
Stage = Literal["call", "backward"]
"""Where a case ended: in the call, or in the backward the grader runs after it (call_backward)."""
ValueKind = Literal["none", "number", "sequence", "tensor", "other"]
"""What a described value is (``grader.runner.harvest.value``)."""


@dataclass(frozen=True)
class ZygoteReady:
    """A zygote's first message: it has imported torch and prepared the sandbox."""

    layers: dict[str, Any]
    """``sandbox.describe()``: the isolation layers its children get, and why any other is missing."""


@dataclass(frozen=True)
class RunOrder:
    """What a zygote is told about one run: limits and places, never the submission itself."""

    scratch: str
    wall_seconds: float
    """Backstop on the whole run (every exercise's budget and some slack); each exercise's own budget
    is kept by the pool, which sends a KillOrder."""
    cpu_seconds: int
    memory_mb: int
    readable: tuple[str, ...]
    exercises: int
    """How many exercises the job holds: the order carries one output pipe for each."""


@dataclass(frozen=True)
class JobExercise:
    """One exercise of a job: the student's source and how to call it."""

    exercise_id: str
    protocol: str
    function: str
    module: str
    """The name the file is imported as."""
    source: str
    """The file's text: the child never opens the file."""
    filename: str
    """The path tracebacks show."""
    inputs: tuple["torch.Tensor", ...]
    banned: tuple[str, ...] = ()
    """The exercise's banned functions (``banned`` in config.yaml): the recorder looks for their values."""
    swap: tuple[str, ...] = ()
    """Graph nodes whose derivative the swap run scales (grader.runner.swap); empty: no swap run."""
    swap_seed: int = 0
    record_ops: bool = True
    """False: a light run, without the recorder's dispatch mode (grader.runner.facts.RunFacts.ops_recorded)."""


@dataclass(frozen=True)
class Job:
    """The exercises one child runs, in order."""

    exercises: tuple[JobExercise, ...]


@dataclass(frozen=True)
class ResultEnvelope:
    """One exercise's result: how its run ended, and what it found."""

    status: ResultStatus
    cases: tuple[dict[str, Any], ...] = ()
    """``ok``: one case record per input, in order."""
    error: dict[str, Any] | None = None
    """``load_error``: the exception raised while importing the file."""
    defined: tuple[str, ...] = ()
    """``missing_function``: public callables the file does define (at most 20)."""


@dataclass(frozen=True)
class ChildExit:
    """How a child ended, as the zygote that reaped it saw it."""

    exit_code: int
    """The exit status, or minus the signal that ended the child."""
    timed_out: bool
    """Killed by the zygote at the run's wall-clock backstop."""
    killed: bool
    """Killed by the zygote on the pool's KillOrder (an exercise overran its own budget)."""
    max_rss_kb: int
    wall: float
    """Seconds from fork to reaped."""


def pack_ready(ready: ZygoteReady) -> bytes:
    return json.dumps({"ready": True, "layers": ready.layers}).encode()


def unpack_ready(message: bytes) -> ZygoteReady:
    """A zygote's first message; FrameError unless it is exactly ``{"ready": true, "layers": {...}}``."""
    tree = _checked(_json(message, "ready message"), "ready message",
                    ready=lambda v: v is True, layers=lambda v: isinstance(v, dict))
    return ZygoteReady(layers=tree["layers"])


def pack_order(order: RunOrder) -> bytes:
    message = json.dumps(asdict(order)).encode()
    if len(message) > MAX_ORDER_BYTES:
        raise ValueError("run order too large")
    return message


def unpack_order(message: bytes) -> RunOrder:
    """A run order, checked field by field."""
    tree = _checked(_json(message, "run order"), "run order",
                    scratch=_text, wall_seconds=lambda v: _seconds(v) and v > 0,
                    cpu_seconds=lambda v: _integer(v, 1, int(_MAX_SECONDS)),
                    memory_mb=lambda v: _integer(v, 0, _MAX_MEMORY_MB), readable=_texts,
                    exercises=lambda v: _integer(v, 1, MAX_EXERCISES))
    return RunOrder(**{**tree, "wall_seconds": float(tree["wall_seconds"]), "readable": tuple(tree["readable"])})


def pack_kill() -> bytes:
    return b'{"kill":true}'


def unpack_control(message: bytes) -> Literal["kill"]:
    """A message the pool sends a zygote while a child runs: only a kill order exists."""
    _checked(_json(message, "control"), "control", kill=lambda v: v is True)
    return "kill"


def pack_job(job: Job) -> bytes:
    """The frame the pool writes on a child's job pipe."""
    # Field by field, not dataclasses.asdict: that deep-copies every input tensor (≈6 ms a submission).
    exercises = [{"exercise_id": e.exercise_id, "protocol": e.protocol, "function": e.function, "module": e.module,
                  "source": e.source, "filename": e.filename, "inputs": list(e.inputs), "banned": list(e.banned),
                  "swap": list(e.swap), "swap_seed": e.swap_seed, "record_ops": e.record_ops}
                 for e in job.exercises]
    data = frame(dump({"exercises": exercises}))
    if len(data) > MAX_JOB_BYTES:
        raise ValueError("job too large")
    return data


def unpack_job(data: bytes) -> Job:
    """A job as the child reads it; FrameError unless every exercise has exactly its fields and tensors."""
    import torch

    if len(data) > MAX_JOB_BYTES + FRAME_HEADER:
        raise FrameError("job: too large")
    tree = load(unframe(data, MAX_JOB_BYTES), max_json=MAX_JOB_BYTES, max_nodes=MAX_JOB_BYTES)
    if not isinstance(tree, dict):
        raise FrameError("job: not a mapping")
    entries = _checked(tree, "job", exercises=lambda v: isinstance(v, list) and len(v) > 0)["exercises"]
    exercises = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise FrameError("job: an exercise is not a mapping")
        fields = _checked(entry, "job exercise", exercise_id=_text, protocol=_text, function=_text, module=_text,
                          source=_text, filename=_text,
                          inputs=lambda v: isinstance(v, list) and all(type(t) is torch.Tensor for t in v),
                          banned=lambda v: _texts(v) and len(v) <= 64,
                          swap=lambda v: _texts(v) and len(v) <= 64,
                          swap_seed=lambda v: type(v) is int and 0 <= v < 2 ** 63,
                          record_ops=lambda v: type(v) is bool)
        exercises.append(JobExercise(**{**fields, "inputs": tuple(fields["inputs"]),
                                        "banned": tuple(fields["banned"]), "swap": tuple(fields["swap"])}))
    return Job(tuple(exercises))


def pack_exercise(index: int, envelope: ResultEnvelope) -> bytes:
    """The frame a child writes on its events pipe when exercise ``index`` of its job is done."""
    return frame(dump({"index": index, "result": result_data(envelope)}))


def result_data(envelope: ResultEnvelope) -> dict[str, Any]:
    """The envelope as plain data."""
    if envelope.status == "ok":
        return {"status": "ok", "cases": list(envelope.cases)}
    if envelope.status == "load_error":
        return {"status": "load_error", "error": envelope.error}
    if envelope.status == "missing_function":
        return {"status": "missing_function", "defined": list(envelope.defined)}
    raise ValueError(f"unknown status {envelope.status!r}")


def unpack_exercise(data: bytes, cases: int) -> tuple[int, ResultEnvelope]:
    """One exercise frame, for an exercise of ``cases`` inputs; the case records stay plain data."""
    tree = load(unframe(data))
    if not isinstance(tree, dict):
        raise FrameError("result is not a mapping")
    fields = _checked(tree, "exercise frame", index=_count, result=lambda v: isinstance(v, dict))
    return fields["index"], _envelope(fields["result"], cases)


def unpack_result(data: bytes, cases: int) -> ResultEnvelope:
    """A frame holding one bare envelope (``frame(dump(result_data(e)))``)."""
    tree = load(unframe(data))
    if not isinstance(tree, dict):
        raise FrameError("result is not a mapping")
    return _envelope(tree, cases)


def _envelope(tree: dict[str, Any], cases: int) -> ResultEnvelope:
    status = tree.get("status")
    if status == "ok":
        records = _checked(tree, "result", status=_text, cases=lambda v: isinstance(v, list))["cases"]
        if len(records) != cases:
            raise FrameError("not one result per case")
        if not all(isinstance(record, dict) for record in records):
            raise FrameError("result: a case is not a mapping")
        return ResultEnvelope("ok", cases=tuple(records))
    if status == "load_error":
        tree = _checked(tree, "result", status=_text, error=lambda v: isinstance(v, dict))
        return ResultEnvelope("load_error", error=tree["error"])
    if status == "missing_function":
        tree = _checked(tree, "result", status=_text, defined=_texts)
        return ResultEnvelope("missing_function", defined=tuple(tree["defined"]))
    raise FrameError(f"unknown status {status[:40]!r}" if isinstance(status, str) else "result: no status string")


def frame_length(buffer: bytes | bytearray) -> int | None:
    """The whole length of the frame at the start of ``buffer`` once its header is there, else None.

    FrameError when the bytes there are not a frame or announce one larger than MAX_RESULT_BYTES."""
    if len(buffer) < FRAME_HEADER:
        if not MAGIC.startswith(bytes(buffer[: len(MAGIC)])):
            raise FrameError("no result frame")
        return None
    if not bytes(buffer[: len(MAGIC)]) == MAGIC:
        raise FrameError("no result frame")
    (length,) = LENGTH.unpack_from(buffer, len(MAGIC))
    if length > MAX_RESULT_BYTES:
        raise FrameError("result larger than allowed")
    return FRAME_HEADER + length


def pack_exit(ended: ChildExit) -> bytes:
    return json.dumps(asdict(ended)).encode()


def unpack_exit(message: bytes) -> ChildExit:
    """A zygote's report on one run, every field checked."""
    tree = _checked(_json(message, "exit report"), "exit report",
                    exit_code=lambda v: _integer(v, -255, 255), timed_out=lambda v: type(v) is bool,
                    killed=lambda v: type(v) is bool, max_rss_kb=lambda v: _integer(v, 0, _MAX_COUNT),
                    wall=_seconds)
    return ChildExit(**{**tree, "wall": float(tree["wall"])})


def _json(message: bytes, what: str) -> dict[str, Any]:
    try:
        tree = json.loads(message.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FrameError(f"{what}: not JSON ({type(error).__name__})") from None
    if not isinstance(tree, dict):
        raise FrameError(f"{what}: not a mapping")
    return tree


def _checked(tree: dict[str, Any], what: str, **checks: Callable[[Any], bool]) -> dict[str, Any]:
    """``tree`` itself, once it has exactly the fields ``checks`` names and each field passes its check."""
    missing, extra = sorted(set(checks) - set(tree)), sorted(set(tree) - set(checks))
    if missing or extra:
        raise FrameError(f"{what}: fields {missing} missing, {[str(e)[:40] for e in extra[:5]]} unexpected")
    for name, check in checks.items():
        if not check(tree[name]):
            raise FrameError(f"{what}: {name} has the wrong type or value ({type(tree[name]).__name__})")
    return tree


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _integer(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high  # type(), not isinstance(): a bool is an int


def _count(value: Any) -> bool:
    return _integer(value, 0, _MAX_COUNT)


def _seconds(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and 0 <= value <= _MAX_SECONDS
