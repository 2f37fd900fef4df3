"""Bytes on the wire between the trusted process, the zygote and its children.

Payloads are ``torch.save`` archives of plain data, read back with
``torch.load(weights_only=True)`` *explicitly*: ISOLATION.md measured that the
environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD flips the default and
lets a pickle payload run. A result frame starts with a magic tag and its
length, so a child that exits half-way (or prints lookalike bytes) never
produces a result that parses.
"""

from __future__ import annotations

import io
import json
import struct

import torch

MAGIC = b"AGRD\x01"
_LENGTH = struct.Struct("<Q")
MAX_RESULT_BYTES = 64 << 20
MAX_REQUEST_BYTES = 8 << 20
EXIT_SANDBOX_FAILED = 72
"""A child's exit status when it could not confine itself (the grader's failure, not the student's)."""


class FrameError(ValueError):
    """A result frame is missing, truncated, oversized or not inert data."""


def dump(obj: object) -> bytes:
    """Serialise plain data (dicts, lists, str, numbers, None, tensors)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def load(data: bytes) -> object:
    """Deserialise without ever running code: weights-only, stated explicitly."""
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - any failure means "not inert data"
        raise FrameError(f"not inert data ({type(error).__name__}: {str(error)[:200]})") from None


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
