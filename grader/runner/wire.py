"""Bytes on the wire between the trusted process, the zygote and its children.

A payload is plain data — dicts with string keys, lists, strings, numbers,
booleans, None and ``torch.Tensor`` — written as one JSON document followed
by the tensors' raw bytes. Reading it back runs no code: JSON is parsed,
and each tensor is rebuilt from its bytes with a dtype from a fixed list and
a size that must match exactly. (``torch.load(weights_only=True)`` would do
too, but it costs ≈1 s of imports on first use, and ISOLATION.md measured
that an environment variable can switch its safety off.) A result frame
starts with a magic tag and its length, so a child that exits half-way (or
prints lookalike bytes) never produces a result that parses.
"""

from __future__ import annotations

import ctypes
import json
import struct

import torch

from grader.errors import GraderError

MAGIC = b"AGRD\x01"
_LENGTH = struct.Struct("<Q")
_HEADER = struct.Struct("<I")
MAX_RESULT_BYTES = 64 << 20
MAX_REQUEST_BYTES = 8 << 20
EXIT_SANDBOX_FAILED = 72
"""A child's exit status when it could not confine itself (the grader's failure, not the student's)."""
EXIT_HARNESS_FAILED = 71
"""A child's exit status when its result could not be recorded (written to its captured output)."""
_TENSOR = "__tensor__"
_DTYPES = {
    str(dtype).removeprefix("torch."): dtype
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
                  torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool)
}


class FrameError(GraderError, ValueError):
    """A result frame is missing, truncated, oversized or not inert data."""


def dump(obj: object) -> bytes:
    """Serialise plain data (dicts with str keys, lists, tuples, str, numbers, None, tensors)."""
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
    if not (isinstance(descriptor, list) and len(descriptor) == 4):
        raise FrameError("not inert data (tensor descriptor)")
    dtype_name, shape, offset, size = descriptor
    dtype = _DTYPES.get(dtype_name) if isinstance(dtype_name, str) else None
    if dtype is None or not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise FrameError("not inert data (tensor dtype or shape)")
    if type(offset) is not int or type(size) is not int or offset < 0 or offset + size > len(blob):
        raise FrameError("not inert data (tensor bytes out of range)")
    numel = 1
    for n in shape:
        numel *= n
    if numel * torch.empty((), dtype=dtype).element_size() != size:
        raise FrameError("not inert data (tensor size does not match its shape)")
    if numel == 0:
        return torch.empty(shape, dtype=dtype), 0
    return torch.frombuffer(blob, dtype=dtype, count=numel, offset=offset).reshape(shape).clone(), size


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


def pack_request(header: dict, payload: bytes) -> bytes:
    """One request message: a JSON header and a torch payload."""
    encoded = json.dumps(header).encode()
    message = struct.pack("<I", len(encoded)) + encoded + payload
    if len(message) > MAX_REQUEST_BYTES:
        raise ValueError("request too large")
    return message


def unpack_request(message: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack_from("<I", message)
    return json.loads(message[4 : 4 + length]), message[4 + length :]
