"""grader.runner.wire: result frames parse only when whole, payloads load only as inert data, and every
message reads back as exactly its dataclass or not at all."""

from __future__ import annotations

import dataclasses
import io
import json
import struct

import pytest
import torch

from grader.runner import wire as protocol
from grader.runner.wire import ChildExit, FrameError, RequestHeader, ResultEnvelope, ZygoteReady


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


HEADER = RequestHeader(exercise_id="ex03", protocol="call", function="sum_backward", module="submission_ex03",
                       source="def f(x): ...\n", filename="ex03_sum_backward.py", timeout=10.0, memory_mb=1024,
                       readable=("/course/exercises",), scratch="/tmp/run-0")


def test_request_round_trip_and_size_cap():
    """Does a request survive pack/unpack, and is one above MAX_REQUEST_BYTES refused?"""
    header = HEADER
    payload = protocol.dump([torch.arange(4.0)])
    assert protocol.unpack_request(protocol.pack_request(header, payload)) == (header, payload)
    with pytest.raises(ValueError):
        protocol.pack_request(dataclasses.replace(header, source="#" * protocol.MAX_REQUEST_BYTES), b"")


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


# --------------------------------------------------------------------------- messages, typed


def test_header_is_json_with_one_key_per_field():
    """Is the request header one JSON mapping with exactly the dataclass's fields, readable as a list?"""
    message = protocol.pack_request(HEADER, b"")
    (length,) = struct.unpack_from("<I", message)
    tree = json.loads(message[4 : 4 + length])
    assert list(tree) == [f.name for f in dataclasses.fields(RequestHeader)]
    assert tree["readable"] == ["/course/exercises"] and tree["timeout"] == 10.0


def test_inputs_round_trip():
    """Do the input tensors come back from dump_inputs/load_inputs as a tuple of equal plain tensors?"""
    inputs = (torch.arange(4.0), torch.tensor(2.5, dtype=torch.float64))
    loaded = protocol.load_inputs(protocol.dump_inputs(inputs))
    assert type(loaded) is tuple and len(loaded) == 2
    assert all(type(t) is torch.Tensor and torch.equal(t, u) for t, u in zip(loaded, inputs))


def test_ready_round_trip():
    """Does the zygote's ready message give back the sandbox report it carried?"""
    ready = ZygoteReady(layers={"landlock": True, "missing": ["no seccomp here"], "summary": "sandbox: landlock"})
    assert protocol.unpack_ready(protocol.pack_ready(ready)) == ready


@pytest.mark.parametrize("ended", [
    ChildExit(exit_code=0, timed_out=False, max_rss_kb=183_424, wall=0.0123),
    ChildExit(exit_code=-9, timed_out=True, max_rss_kb=0, wall=1.0),
    ChildExit(exit_code=protocol.EXIT_SANDBOX_FAILED, timed_out=False, max_rss_kb=1, wall=0.0),
], ids=["ok", "killed", "sandbox-failed"])
def test_exit_round_trip(ended):
    """Does the zygote's per-run report come back as the same ChildExit?"""
    assert protocol.unpack_exit(protocol.pack_exit(ended)) == ended


CASE = {"error": None, "stage": "call", "returned": {"kind": "none"}, "grad": {"kind": "none"}}


@pytest.mark.parametrize("envelope, cases", [
    (ResultEnvelope("ok", cases=(CASE, CASE)), 2),
    (ResultEnvelope("ok"), 0),
    (ResultEnvelope("load_error", error={"type": "SyntaxError", "message": "bad", "frames": []}), 1),
    (ResultEnvelope("missing_function", defined=("helper", "other")), 3),
], ids=["ok", "ok-no-cases", "load-error", "missing-function"])
def test_result_round_trip(envelope, cases):
    """Does each kind of result envelope survive pack_result/unpack_result unchanged?"""
    assert protocol.unpack_result(protocol.pack_result(envelope), cases) == envelope


def test_result_carries_tensors_in_its_cases():
    """Does a case's tensor data reach the reader as a plain tensor inside the envelope?"""
    case = {**CASE, "returned": {"kind": "tensor", "data": torch.arange(3.0)}}
    (loaded,) = protocol.unpack_result(protocol.pack_result(ResultEnvelope("ok", cases=(case,))), 1).cases
    assert torch.equal(loaded["returned"]["data"], torch.arange(3.0))


def _request(tree: object, inputs: bytes = b"") -> bytes:
    """A request message with any JSON at all as its header."""
    encoded = json.dumps(tree).encode()
    return struct.pack("<I", len(encoded)) + encoded + inputs


_DROP = object()
"""As a changed field's value: leave the field out."""


def _changed(tree: dict, changes: dict) -> dict:
    tree = {**tree, **changes}
    return {name: value for name, value in tree.items() if value is not _DROP}


def _header(**changes: object) -> dict:
    return _changed({**dataclasses.asdict(HEADER), "readable": list(HEADER.readable)}, changes)

MALFORMED_REQUESTS = {
    **{f"missing-{f.name}": _request(_header(**{f.name: _DROP})) for f in dataclasses.fields(RequestHeader)},
    "extra-field": _request(_header(score=100)),
    "exercise_id-int": _request(_header(exercise_id=3)),
    "source-None": _request(_header(source=None)),
    "readable-str": _request(_header(readable="/course")),
    "readable-ints": _request(_header(readable=[1, 2])),
    "timeout-nested": _request(_header(timeout=[10.0])),
    "scratch-nested": _request(_header(scratch={"path": "/tmp/run-0"})),
    "memory_mb-nested": _request(_header(memory_mb=[1024])),
    "memory_mb-bool": _request(_header(memory_mb=True)),
    "timeout-bool": _request(_header(timeout=True)),
    "memory_mb-float": _request(_header(memory_mb=1024.0)),
    "memory_mb-negative": _request(_header(memory_mb=-1)),
    "memory_mb-huge": _request(_header(memory_mb=10**30)),
    "timeout-nan": _request(_header(timeout=float("nan"))),
    "timeout-inf": _request(_header(timeout=float("inf"))),
    "timeout-huge": _request(_header(timeout=1e300)),
    "timeout-zero": _request(_header(timeout=0)),
    "timeout-str": _request(_header(timeout="10")),
    "list": _request([_header()]),
    "not-json": struct.pack("<I", 5) + b"{oops",
    "not-utf8": struct.pack("<I", 2) + b"\xff\xfe",
    "length-beyond-message": struct.pack("<I", 1000) + b"{}",
    "empty": b"",
    "length-cut": b"\x01\x00",
}


@pytest.mark.parametrize("message", MALFORMED_REQUESTS.values(), ids=MALFORMED_REQUESTS.keys())
def test_malformed_requests_are_refused(message):
    """Is a request header with a field missing, extra, mistyped, nested or out of range a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_request(message)


def _exit(**changes: object) -> bytes:
    tree = dataclasses.asdict(ChildExit(exit_code=0, timed_out=False, max_rss_kb=1000, wall=0.5))
    return json.dumps(_changed(tree, changes)).encode()


MALFORMED_EXITS = {
    **{f"missing-{f.name}": _exit(**{f.name: _DROP}) for f in dataclasses.fields(ChildExit)},
    "extra-field": _exit(score=100),
    "exit_code-bool": _exit(exit_code=True),
    "exit_code-float": _exit(exit_code=0.0),
    "exit_code-huge": _exit(exit_code=10**6),
    "exit_code-nested": _exit(exit_code=[0]),
    "exit_code-None": _exit(exit_code=None),
    "timed_out-int": _exit(timed_out=1),
    "timed_out-str": _exit(timed_out="yes"),
    "max_rss_kb-bool": _exit(max_rss_kb=False),
    "max_rss_kb-nan": _exit(max_rss_kb=float("nan")),
    "max_rss_kb-inf": _exit(max_rss_kb=float("inf")),
    "max_rss_kb-huge": _exit(max_rss_kb=10**30),
    "max_rss_kb-negative": _exit(max_rss_kb=-1),
    "max_rss_kb-float": _exit(max_rss_kb=1000.0),
    "wall-nan": _exit(wall=float("nan")),
    "wall-inf": _exit(wall=float("inf")),
    "wall-negative": _exit(wall=-0.1),
    "wall-str": _exit(wall="0.5"),
    "wall-bool": _exit(wall=True),
    "wall-nested": _exit(wall={"seconds": 0.5}),
    "list": b"[0, false, 1000, 0.5]",
    "not-json": b'{"exit_code": 0',
    "not-utf8": b"\xff",
    "empty": b"",
}


@pytest.mark.parametrize("message", MALFORMED_EXITS.values(), ids=MALFORMED_EXITS.keys())
def test_malformed_exit_reports_are_refused(message):
    """Is a zygote report with a field missing, extra, mistyped, NaN or out of range a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_exit(message)


MALFORMED_READY = {
    "not-ready": b'{"ready": false, "layers": {}}',
    "ready-int": b'{"ready": 1, "layers": {}}',
    "layers-list": b'{"ready": true, "layers": []}',
    "layers-missing": b'{"ready": true}',
    "extra-field": b'{"ready": true, "layers": {}, "score": 100}',
    "list": b'[true, {}]',
    "not-json": b'{"ready": tru',
    "empty": b"",
}


@pytest.mark.parametrize("message", MALFORMED_READY.values(), ids=MALFORMED_READY.keys())
def test_malformed_ready_messages_are_refused(message):
    """Is a ready message that is not exactly {"ready": true, "layers": {...}} a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_ready(message)


MALFORMED_RESULTS = {
    "list": [CASE],
    "no-status": {"cases": [CASE]},
    "status-int": {"status": 1, "cases": [CASE]},
    "status-unknown": {"status": "passed", "cases": [CASE]},
    "status-nested": {"status": ["ok"], "cases": [CASE]},
    "cases-missing": {"status": "ok"},
    "cases-mapping": {"status": "ok", "cases": {"0": CASE}},
    "cases-too-few": {"status": "ok", "cases": []},
    "cases-too-many": {"status": "ok", "cases": [CASE, CASE]},
    "case-nested": {"status": "ok", "cases": [[CASE]]},
    "ok-extra-field": {"status": "ok", "cases": [CASE], "score": 100},
    "ok-with-error": {"status": "ok", "cases": [CASE], "error": None},
    "error-missing": {"status": "load_error"},
    "error-str": {"status": "load_error", "error": "SyntaxError"},
    "error-nested": {"status": "load_error", "error": [{"type": "SyntaxError"}]},
    "defined-missing": {"status": "missing_function"},
    "defined-str": {"status": "missing_function", "defined": "helper"},
    "defined-ints": {"status": "missing_function", "defined": [1]},
    "defined-nested": {"status": "missing_function", "defined": [["helper"]]},
    "count-nan": {"status": "ok", "cases": float("nan")},
}


@pytest.mark.parametrize("tree", MALFORMED_RESULTS.values(), ids=MALFORMED_RESULTS.keys())
def test_malformed_results_are_refused(tree):
    """Is a whole, inert frame that is not exactly a result envelope for one case a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_result(protocol.frame(protocol.dump(tree)), 1)


def test_result_that_is_not_a_frame_is_refused():
    """Is an unframed payload, or a frame that holds no payload, a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_result(protocol.dump({"status": "ok", "cases": [CASE]}), 1)
    with pytest.raises(FrameError):
        protocol.unpack_result(protocol.frame(b"\x00\x01"), 1)


@pytest.mark.parametrize("tree", [
    {"inputs": [torch.ones(2)]},
    [torch.ones(2), 3.0],
    [[torch.ones(2)]],
    torch.ones(2),
], ids=["mapping", "number", "nested", "bare-tensor"])
def test_malformed_inputs_are_refused(tree):
    """Is an inputs payload that is not a flat list of tensors a FrameError?"""
    with pytest.raises(FrameError):
        protocol.load_inputs(protocol.dump(tree))


@pytest.mark.parametrize("shape", [[0, 1 << 62, 1 << 62], [0, 1 << 63], [-1], [True], [2.0]],
                         ids=["empty-overflowing", "dim-huge", "dim-negative", "dim-bool", "dim-float"])
def test_tensor_shapes_out_of_range_are_refused(shape):
    """Is a tensor descriptor whose shape torch cannot hold a FrameError, not torch's own exception?"""
    header = json.dumps({"__tensor__": ["float32", shape, 0, 0]}).encode()
    with pytest.raises(FrameError):
        protocol.load(struct.pack("<I", len(header)) + header)
