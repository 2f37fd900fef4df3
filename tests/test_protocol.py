"""grader.runner.wire: result frames parse only when whole, and payloads load only as inert data."""

from __future__ import annotations

import io
import struct

import pytest
import torch

from grader.runner import wire as protocol
from grader.runner.wire import FrameError


def test_frame_round_trip():
    """Does unframe give back exactly the payload that frame wrapped?"""
    payload = protocol.dump({"status": "ok", "cases": [torch.arange(3.0)]})
    assert protocol.unframe(protocol.frame(payload)) == payload


@pytest.mark.parametrize("damage", [
    lambda framed: framed[:-1],
    lambda framed: framed[: len(protocol.MAGIC) + 3],
    lambda framed: framed + b"x",
    lambda framed: b"",
    lambda framed: b"AGRX" + framed[4:],
    lambda framed: b'{"score": 100}\n' + framed,
], ids=["truncated", "header-cut", "trailing-bytes", "empty", "wrong-magic", "printed-before"])
def test_damaged_frames_are_refused(damage):
    """Is a truncated, padded, empty or wrong-magic frame a FrameError, never a payload?"""
    framed = protocol.frame(protocol.dump({"status": "ok"}))
    with pytest.raises(FrameError):
        protocol.unframe(damage(framed))


def test_oversized_frame_is_refused():
    """Is a frame that claims more than MAX_RESULT_BYTES refused, even if the bytes are all there?"""
    length = protocol.MAX_RESULT_BYTES + 1
    framed = protocol.MAGIC + struct.pack("<Q", length) + bytes(length)
    with pytest.raises(FrameError):
        protocol.unframe(framed)


def _pickled(obj: object) -> bytes:
    """What a malicious child could send instead of a payload: a torch.save archive carrying code."""
    buffer = io.BytesIO()
    torch.save({"result": obj}, buffer)
    return buffer.getvalue()


class _Touch:
    """Unpickling this creates the marker file: code running during a load."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_code_carrying_payload_is_live_under_the_variable(tmp_path, monkeypatch):
    """Control: with the variable set, does a plain torch.load (no weights_only) really run the payload's code?"""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "ran"
    torch.load(io.BytesIO(_pickled(_Touch(str(marker)))))
    assert marker.exists()


def test_load_refuses_code_even_when_torch_is_told_to_allow_it(tmp_path, monkeypatch):
    """With TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 set, does protocol.load still refuse a payload that would run code?"""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "ran"
    with pytest.raises(FrameError):
        protocol.load(_pickled(_Touch(str(marker))))
    assert not marker.exists()


def test_garbage_is_a_frame_error():
    """Are bytes that are not a payload a FrameError (not some other exception)?"""
    with pytest.raises(FrameError):
        protocol.load(b"not a torch archive")


def test_plain_data_loads():
    """Do plain dicts, lists, numbers, strings and tensors load back equal?"""
    data = {"a": [1, 2.5, "x", None, True], "t": torch.arange(4.0)}
    loaded = protocol.load(protocol.dump(data))
    assert loaded["a"] == data["a"]
    assert torch.equal(loaded["t"], data["t"])


def test_request_round_trip_and_size_cap():
    """Does a request survive pack/unpack, and is one above MAX_REQUEST_BYTES refused?"""
    header = {"exercise_id": "ex03", "source": "def f(x): ...\n"}
    payload = protocol.dump([torch.arange(4.0)])
    assert protocol.unpack_request(protocol.pack_request(header, payload)) == (header, payload)
    with pytest.raises(ValueError):
        protocol.pack_request({"source": "#" * protocol.MAX_REQUEST_BYTES}, b"")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.bool, torch.complex64])
def test_tensors_round_trip_exactly(dtype):
    """Does every supported dtype come back bit for bit, with its shape (empty and 0-dim too)?"""
    for tensor in (torch.arange(12).reshape(3, 4).to(dtype), torch.tensor(3).to(dtype), torch.empty(0, 2, dtype=dtype)):
        loaded = protocol.load(protocol.dump({"t": tensor}))["t"]
        assert type(loaded) is torch.Tensor and loaded.dtype == dtype and loaded.shape == tensor.shape
        assert torch.equal(loaded, tensor)


def test_special_floats_survive():
    """Do NaN and infinities survive as numbers and in tensors (a student's NaN must reach the report)?"""
    loaded = protocol.load(protocol.dump({"n": float("nan"), "t": torch.tensor([float("inf"), float("nan")])}))
    assert loaded["n"] != loaded["n"]
    assert loaded["t"][0] == float("inf") and torch.isnan(loaded["t"][1])


@pytest.mark.parametrize("tamper", [
    lambda d: d[:-1],                                      # a tensor's bytes cut short
    lambda d: d + b"\0",                                   # stray bytes after the tensors
    lambda d: d.replace(b'"float32"', b'"object!"'),       # a dtype outside the list
    lambda d: d.replace(b"[4]", b"[5]"),                   # a shape the bytes do not fill
], ids=["short", "trailing", "dtype", "shape"])
def test_tampered_payloads_are_refused(tamper):
    """Is a payload whose tensor descriptors do not match its bytes a FrameError, never a tensor?"""
    data = protocol.dump({"t": torch.arange(4.0)})
    with pytest.raises(FrameError):
        protocol.load(tamper(data))


def test_only_plain_data_is_written():
    """Does dump refuse objects that are not plain data (so nothing else can ever be sent)?"""
    with pytest.raises(TypeError):
        protocol.dump({"x": object()})
    with pytest.raises(TypeError):
        protocol.dump({1: "non-string key"})
