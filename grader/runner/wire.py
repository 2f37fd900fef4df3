"""Every message between the trusted process, a zygote and its children, and the codec they share.

The trusted process (``grader.runner.pool``) talks to each zygote
(``grader.runner.zygote``) over a SOCK_SEQPACKET socket, one message per
datagram. A zygote forks one child per run (``grader.runner.child``), whose
one message goes on a pipe the trusted process owns. In the order they travel:

``ZygoteReady`` (zygote → pool, once torch is imported and the sandbox
    prepared): JSON ``{"ready": true, "layers": {...}}``, ``layers`` being
    ``sandbox.describe()``. ``pack_ready`` / ``unpack_ready``.
``RequestHeader`` + inputs (pool → zygote, one per run, with the write ends
    of the result and output pipes attached by SCM_RIGHTS):
    ``<u32 length><JSON header><inputs payload>``. Header fields:
    ``exercise_id``; ``protocol`` (``grader.core.exercises.PROTOCOL_*``);
    ``function`` (the name to call); ``module`` (the name the file is
    imported as); ``source`` (the file's text: the child never opens it);
    ``filename`` (the path tracebacks show); ``timeout`` (wall-clock
    seconds); ``memory_mb`` (address space on top of what the child
    inherits); ``readable`` (extra read-only paths); ``scratch`` (the one
    writable directory). The zygote reads the header; the child gets header
    and payload, and decodes the inputs (a list of tensors) once confined.
    ``pack_request`` / ``unpack_request``, ``dump_inputs`` / ``load_inputs``.
``ResultEnvelope`` (child → pool, on the result pipe, its last act): a frame
    (``MAGIC``, ``<u64 length>``, payload) of ``{"status": "ok", "cases":
    [case, ...]}`` (one per input), ``{"status": "load_error", "error":
    error}`` or ``{"status": "missing_function", "defined": [name, ...]}``
    (≤ 20 public callables). A *case* is ``{"error": error | None, "stage":
    Stage, "returned": value, "grad": value}`` (``grader.runner.calling``);
    a *value* ``{"kind": ValueKind, ...}`` and an *error* ``{"type",
    "message", "frames", "module"?}`` come from ``grader.runner.harvest``.
    ``pack_result`` / ``unpack_result`` (the envelope); ``grader.runner.outcome``
    reads cases, values and errors, raising ``outcome.InvalidResult``.
``ChildExit`` (zygote → pool, one per run, once the child is reaped or
    killed at its budget): JSON ``{"exit_code", "timed_out", "max_rss_kb",
    "wall"}``. A child that fails before sending a result says why in its
    exit code (``EXIT_*``). ``pack_exit`` / ``unpack_exit``.

``expected/public.bin`` (``grader.core.reference``) is one payload, unframed.
Every reader is total: a field missing, extra or of the wrong type (a bool
for an int), a NaN, negative or absurdly large number raises ``FrameError``.

A payload is plain data (dicts with string keys, lists, strings, numbers,
booleans, None and ``torch.Tensor``): one JSON document, then the tensors'
raw bytes. Reading it runs no code: JSON is parsed, and each tensor rebuilt
from its bytes with a dtype from a fixed list and a size that must match.
``torch.load(weights_only=True)`` would do too, but costs ≈1 s of imports on
first use, and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` makes every
``torch.load`` that leaves ``weights_only`` unset unpickle, so run, what it
is given (tests/test_wire.py). A frame starts with a magic tag and its
length, so a child that exits half-way (or prints lookalike bytes) never
produces a result that parses.
"""

from __future__ import annotations

import ctypes
import json
import math
import struct
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

from grader.errors import GraderError

# torch is imported inside the codec's functions: the trusted process imports this module (through
# grader.runner.pool) before it starts its zygotes, and only then pays for torch's import.
if TYPE_CHECKING:
    import torch

MAGIC = b"AGRD\x01"
_LENGTH = struct.Struct("<Q")
_HEADER = struct.Struct("<I")
MAX_RESULT_BYTES = 64 << 20
MAX_REQUEST_BYTES = 8 << 20
EXIT_SETUP_FAILED = 70
"""A child's exit status when it failed before confining itself."""
EXIT_HARNESS_FAILED = 71
"""A child's exit status when its result could not be recorded (written to its captured output)."""
EXIT_SANDBOX_FAILED = 72
"""A child's exit status when it could not confine itself (the grader's failure, not the student's)."""
_TENSOR = "__tensor__"
_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64", "complex64", "complex128",
                     "int8", "int16", "int32", "int64", "uint8", "bool"})
_MAX_SECONDS = 1e9
"""Above any real budget, below what select() and RLIMIT_CPU accept."""
_MAX_COUNT = 1 << 62
_MAX_MEMORY_MB = (1 << 43) - 1
"""The largest allowance whose size in bytes still fits an rlimit."""

ResultStatus = Literal["ok", "load_error", "missing_function"]
"""How a child's run ended, as the child itself reports it."""
Stage = Literal["call", "backward"]
"""Where a case ended: in the call, or in the backward the grader runs after it (call_backward)."""
ValueKind = Literal["none", "number", "sequence", "tensor", "other"]
"""What a described value is (``grader.runner.harvest.value``)."""


class FrameError(GraderError, ValueError):
    """A message is missing, truncated, oversized, not inert data, or not the message it claims to be."""


# --------------------------------------------------------------------------- payload codec


def dump(obj: object) -> bytes:
    """Serialise plain data (dicts with str keys, lists, tuples, str, numbers, None, tensors)."""
    import torch

    blobs: list[bytes] = []
    offset = 0

    def encode(value: object) -> object:
        nonlocal offset
        if isinstance(value, torch.Tensor):
            tensor = value.detach().to("cpu").contiguous()
            size = tensor.numel() * tensor.element_size()
            raw = ctypes.string_at(tensor.data_ptr(), size) if size else b""
            blobs.append(raw)
            descriptor = {_TENSOR: [str(tensor.dtype).removeprefix("torch."), list(tensor.shape), offset, size]}
            offset += size
            return descriptor
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                raise TypeError("payload mappings need string keys")
            return {key: encode(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(item) for item in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"{type(value).__name__} is not plain data")

    header = json.dumps(encode(obj), separators=(",", ":")).encode()
    return _HEADER.pack(len(header)) + header + b"".join(blobs)


def load(data: bytes) -> object:
    """Deserialise without ever running code; FrameError unless the bytes are exactly a payload."""
    try:
        (length,) = _HEADER.unpack_from(data)
        tree = json.loads(data[_HEADER.size : _HEADER.size + length].decode("utf-8"))
    except (struct.error, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FrameError(f"not inert data ({type(error).__name__})") from None
    blob = bytearray(data[_HEADER.size + length :])
    used = 0

    def decode(value: object) -> object:
        nonlocal used
        if isinstance(value, dict):
            if set(value) == {_TENSOR}:
                tensor, size = _tensor(value[_TENSOR], blob)
                used += size
                return tensor
            return {key: decode(item) for key, item in value.items()}
        if isinstance(value, list):
            return [decode(item) for item in value]
        return value

    try:
        result = decode(tree)
    except RecursionError:
        raise FrameError("not inert data (nested too deeply)") from None
    if used != len(blob):
        raise FrameError("not inert data (tensor bytes do not add up)")
    return result


def _tensor(descriptor: object, blob: bytearray) -> tuple[torch.Tensor, int]:
    import torch

    if not (isinstance(descriptor, list) and len(descriptor) == 4):
        raise FrameError("not inert data (tensor descriptor)")
    dtype_name, shape, offset, size = descriptor
    known = isinstance(dtype_name, str) and dtype_name in _DTYPES
    if not known or not isinstance(shape, list) or not all(_count(n) for n in shape):
        raise FrameError("not inert data (tensor dtype or shape)")
    dtype = getattr(torch, dtype_name)
    if type(offset) is not int or type(size) is not int or offset < 0 or offset + size > len(blob):
        raise FrameError("not inert data (tensor bytes out of range)")
    numel = math.prod(shape)
    if numel * dtype.itemsize != size:
        raise FrameError("not inert data (tensor size does not match its shape)")
    try:
        if numel == 0:
            return torch.empty(shape, dtype=dtype), 0
        return torch.frombuffer(blob, dtype=dtype, count=numel, offset=offset).reshape(shape).clone(), size
    except (RuntimeError, TypeError, ValueError):  # an empty tensor whose other dimensions overflow int64
        raise FrameError("not inert data (tensor shape out of range)") from None


def frame(payload: bytes) -> bytes:
    return MAGIC + _LENGTH.pack(len(payload)) + payload


def unframe(data: bytes) -> bytes:
    """The payload of exactly one complete frame; FrameError otherwise."""
    header = len(MAGIC) + _LENGTH.size
    if len(data) < header or not data.startswith(MAGIC):
        raise FrameError("no result frame")
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if length > MAX_RESULT_BYTES or len(data) != header + length:
        raise FrameError("truncated or oversized result frame")
    return data[header:]


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class ZygoteReady:
    """A zygote's first message: it has imported torch and prepared the sandbox."""

    layers: dict[str, Any]
    """``sandbox.describe()``: the isolation layers its children get, and why any other is missing."""


@dataclass(frozen=True)
class RequestHeader:
    """What a zygote, and the child it forks, are told about one run (fields: see the module docstring)."""

    exercise_id: str
    protocol: str
    function: str
    module: str
    source: str
    filename: str
    timeout: float
    memory_mb: int
    readable: tuple[str, ...]
    scratch: str


@dataclass(frozen=True)
class ResultEnvelope:
    """A child's one result: how the run ended, and what it found."""

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
    """Killed by the zygote at the wall-clock budget."""
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


def pack_request(header: RequestHeader, inputs: bytes) -> bytes:
    """One request message: the header as JSON, then the inputs payload (``dump_inputs``)."""
    encoded = json.dumps(asdict(header)).encode()
    message = _HEADER.pack(len(encoded)) + encoded + inputs
    if len(message) > MAX_REQUEST_BYTES:
        raise ValueError("request too large")
    return message


def unpack_request(message: bytes) -> tuple[RequestHeader, bytes]:
    """The header, checked field by field, and the inputs payload (still encoded)."""
    try:
        (length,) = _HEADER.unpack_from(message)
    except struct.error:
        raise FrameError("request: cut short") from None
    end = _HEADER.size + length
    if len(message) < end:
        raise FrameError("request: cut short")
    tree = _checked(_json(message[_HEADER.size : end], "request"), "request",
                    exercise_id=_text, protocol=_text, function=_text, module=_text, source=_text,
                    filename=_text, timeout=lambda v: _seconds(v) and v > 0,
                    memory_mb=lambda v: _integer(v, 0, _MAX_MEMORY_MB), readable=_texts, scratch=_text)
    header = RequestHeader(**{**tree, "timeout": float(tree["timeout"]), "readable": tuple(tree["readable"])})
    return header, message[end:]


def dump_inputs(inputs: Sequence[torch.Tensor]) -> bytes:
    return dump(list(inputs))


def load_inputs(payload: bytes) -> tuple[torch.Tensor, ...]:
    """The input tensors of a request; FrameError unless the payload is a list of plain tensors."""
    import torch

    inputs = load(payload)
    if not isinstance(inputs, list) or not all(type(given) is torch.Tensor for given in inputs):
        raise FrameError("inputs: not a list of tensors")
    return tuple(inputs)


def pack_result(envelope: ResultEnvelope) -> bytes:
    """The frame a child writes on its result pipe."""
    return frame(dump(result_data(envelope)))


def result_data(envelope: ResultEnvelope) -> dict[str, Any]:
    """The envelope as the plain data ``pack_result`` frames."""
    if envelope.status == "ok":
        return {"status": "ok", "cases": list(envelope.cases)}
    if envelope.status == "load_error":
        return {"status": "load_error", "error": envelope.error}
    if envelope.status == "missing_function":
        return {"status": "missing_function", "defined": list(envelope.defined)}
    raise ValueError(f"unknown status {envelope.status!r}")


def unpack_result(data: bytes, cases: int) -> ResultEnvelope:
    """A child's result frame, for a run of ``cases`` inputs; the case records stay plain data."""
    tree = load(unframe(data))
    if not isinstance(tree, dict):
        raise FrameError("result is not a mapping")
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


def pack_exit(ended: ChildExit) -> bytes:
    return json.dumps(asdict(ended)).encode()


def unpack_exit(message: bytes) -> ChildExit:
    """A zygote's report on one run, every field checked."""
    tree = _checked(_json(message, "exit report"), "exit report",
                    exit_code=lambda v: _integer(v, -255, 255), timed_out=lambda v: type(v) is bool,
                    max_rss_kb=lambda v: _integer(v, 0, _MAX_COUNT), wall=_seconds)
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
        raise FrameError(f"{what}: fields {missing} missing, {extra[:5]} unexpected")
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
