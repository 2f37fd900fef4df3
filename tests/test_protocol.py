"""grader.protocol: result frames parse only when whole, and payloads load only as inert data."""

from __future__ import annotations

import io
import struct

import pytest
import torch

from grader import protocol
from grader.protocol import FrameError


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
    data = protocol.dump({"result": _Touch(str(marker))})
    torch.load(io.BytesIO(data))
    assert marker.exists()


def test_load_refuses_code_even_when_torch_is_told_to_allow_it(tmp_path, monkeypatch):
    """With TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 set, does protocol.load still refuse a payload that would run code?"""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "ran"
    data = protocol.dump({"result": _Touch(str(marker))})
    with pytest.raises(FrameError):
        protocol.load(data)
    assert not marker.exists()


def test_garbage_is_a_frame_error():
    """Are bytes that are not a torch archive a FrameError (not some other exception)?"""
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
