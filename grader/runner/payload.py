"""The payload codec: plain data as one JSON document plus the tensors' raw bytes, and result frames.

A payload is plain data (dicts with string keys, lists, strings, numbers,
booleans, None and ``torch.Tensor``): one JSON document, then the tensors'
raw bytes. Reading it runs no code: JSON is parsed, and each tensor rebuilt
from its bytes with a dtype from a fixed list and a size that must match.
``torch.load(weights_only=True)`` would do too, but costs ≈1 s of imports on
first use, and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` makes every
``torch.load`` that leaves ``weights_only`` unset unpickle, so run, what it
is given (tests/test_wire.py). A frame starts with a magic tag and its
length, so a child that exits half-way (or prints lookalike bytes) never
produces a result that parses. ``grader.runner.wire`` builds its messages on
this codec; ``expected/public.bin`` (``grader.core.reference``) is one payload,
unframed.
"""

from __future__ import annotations

import ctypes
import json
import math
import struct
from typing import TYPE_CHECKING

from grader.errors import GraderError

# torch is imported inside the codec's functions: the trusted process imports this module (through
# grader.runner.pool) before it starts its zygotes, and only then pays for torch's import.
if TYPE_CHECKING:
    import torch

MAGIC = b"AGRD\x01"
LENGTH = struct.Struct("<Q")
FRAME_HEADER = len(MAGIC) + LENGTH.size
_HEADER = struct.Struct("<I")
MAX_RESULT_BYTES = 64 << 20
"""The largest frame a child may send for one exercise."""
MAX_COUNT = 1 << 62
MAX_JSON_BYTES = 4 << 20
"""The JSON part of a result: case records, error messages (≤ 2000 characters each), tracebacks."""
MAX_NODES = 200_000
"""Containers (objects and arrays) a payload's JSON may hold; a result has a few dozen per case."""
_TENSOR = "__tensor__"
_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64", "complex64", "complex128",
                     "int8", "int16", "int32", "int64", "uint8", "bool"})


class FrameError(GraderError, ValueError):
    """A message is missing, truncated, oversized, not inert data, or not the message it claims to be."""


def _count(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNT  # type(), not isinstance(): a bool is an int


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


def load(data: bytes, max_json: int = MAX_JSON_BYTES, max_nodes: int = MAX_NODES) -> object:
    """Deserialise without ever running code; FrameError unless the bytes are exactly a payload.

    The JSON part's size and its number of containers are checked before it is parsed: parsing
    allocates ≈100 bytes per container, so twenty million ``{}`` in a 60 MB frame would otherwise cost
    the reader gigabytes. Tensors travel as raw bytes beside it, so real results stay far below both.
    """
    try:
        (length,) = _HEADER.unpack_from(data)
    except struct.error:
        raise FrameError("not inert data (cut short)") from None
    document = data[_HEADER.size : _HEADER.size + length]
    if length > max_json or len(document) != length:
        raise FrameError("not inert data (description too large or cut short)")
    if document.count(b"{") + document.count(b"[") > max_nodes:
        raise FrameError("not inert data (too many values)")
    try:
        tree = json.loads(document.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
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
    return MAGIC + LENGTH.pack(len(payload)) + payload


def unframe(data: bytes, limit: int = MAX_RESULT_BYTES) -> bytes:
    """The payload of exactly one complete frame of at most ``limit`` bytes; FrameError otherwise."""
    header = FRAME_HEADER
    if len(data) < header or not data.startswith(MAGIC):
        raise FrameError("no result frame")
    (length,) = LENGTH.unpack_from(data, len(MAGIC))
    if length > limit or len(data) != header + length:
        raise FrameError("truncated or oversized result frame")
    return data[header:]
