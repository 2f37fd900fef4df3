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
from grader.runner.wire import ChildExit, FrameError, Job, JobExercise, ResultEnvelope, RunOrder, ZygoteReady


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


ORDER = RunOrder(scratch="/tmp/grader-1-x/run-0", wall_seconds=15.0, cpu_seconds=12, memory_mb=1024,
                 readable=("/course/exercises",), exercises=2)

EXERCISE = JobExercise(exercise_id="ex03", protocol="call", function="sum_backward", module="submission_ex03",
                       source="def f(x): ...\n", filename="ex03_sum_backward.py",
                       inputs=(torch.arange(4.0), torch.tensor(2.5, dtype=torch.float64)))


def _same_exercise(got: JobExercise, want: JobExercise) -> None:
    """Field by field (a dataclass holding tensors cannot be compared with ==)."""
    for field in dataclasses.fields(JobExercise):
        if field.name != "inputs":
            assert getattr(got, field.name) == getattr(want, field.name), field.name
    assert type(got.inputs) is tuple and len(got.inputs) == len(want.inputs)
    for loaded, sent in zip(got.inputs, want.inputs):
        assert type(loaded) is torch.Tensor and loaded.dtype == sent.dtype and torch.equal(loaded, sent)


def test_order_round_trip_and_size_cap():
    """Does a run order survive pack/unpack, and is one above MAX_ORDER_BYTES refused?"""
    assert protocol.unpack_order(protocol.pack_order(ORDER)) == ORDER
    with pytest.raises(ValueError):
        protocol.pack_order(dataclasses.replace(ORDER, readable=("/" + "x" * protocol.MAX_ORDER_BYTES,)))


def test_order_is_json_with_one_key_per_field_and_no_submission():
    """Is the run order one JSON mapping with exactly RunOrder's fields, and nothing of a source or an input?"""
    tree = json.loads(protocol.pack_order(ORDER))
    assert list(tree) == [f.name for f in dataclasses.fields(RunOrder)]
    assert not {"source", "inputs", "exercise_id", "function"} & set(tree)
    assert tree["readable"] == ["/course/exercises"] and tree["wall_seconds"] == 15.0


def test_order_wall_seconds_comes_back_as_a_float():
    """Is an integral wall_seconds on the wire read back as a float (the type RunOrder declares)?"""
    message = json.dumps({**dataclasses.asdict(ORDER), "wall_seconds": 15, "readable": []}).encode()
    order = protocol.unpack_order(message)
    assert type(order.wall_seconds) is float and order.readable == ()


def test_job_round_trip():
    """Does a job of several exercises come back in order, every field equal and every input a plain tensor?"""
    second = dataclasses.replace(EXERCISE, exercise_id="ex04", module="submission_ex04", source="# два\n",
                                 inputs=(torch.ones(2, 3, dtype=torch.float16),))
    job = protocol.unpack_job(protocol.pack_job(Job((EXERCISE, second))))
    assert type(job.exercises) is tuple and len(job.exercises) == 2
    _same_exercise(job.exercises[0], EXERCISE)
    _same_exercise(job.exercises[1], second)


def test_job_carries_the_banned_functions_and_refuses_a_non_list():
    """Does an exercise's banned names come back as a tuple, and is a job whose banned is not a list of str refused?"""
    banned = dataclasses.replace(EXERCISE, banned=("cos", "sin"))
    (exercise,) = protocol.unpack_job(protocol.pack_job(Job((banned,)))).exercises
    assert exercise.banned == ("cos", "sin")
    tree = protocol.load(protocol.unframe(protocol.pack_job(Job((banned,)))), max_nodes=1 << 20)
    for wrong in ("cos", [1], ["x"] * 65):
        tree["exercises"][0]["banned"] = wrong
        with pytest.raises(FrameError):
            protocol.unpack_job(protocol.frame(protocol.dump(tree)))


def test_job_carries_the_swap_run_and_refuses_a_bad_seed():
    """Do the swap run's nodes and seed come back, and is a seed that is not a non-negative int refused?"""
    swapped = dataclasses.replace(EXERCISE, swap=("SinBackward0",), swap_seed=123456789, record_ops=False)
    (exercise,) = protocol.unpack_job(protocol.pack_job(Job((swapped,)))).exercises
    assert exercise.swap == ("SinBackward0",) and exercise.swap_seed == 123456789 and exercise.record_ops is False
    tree = protocol.load(protocol.unframe(protocol.pack_job(Job((swapped,)))), max_nodes=1 << 20)
    for field, wrong in (("swap_seed", -1), ("swap_seed", 1.5), ("swap_seed", True), ("swap", "SinBackward0"),
                         ("record_ops", 1)):
        bad = dict(tree)
        bad["exercises"] = [dict(tree["exercises"][0], **{field: wrong})]
        with pytest.raises(FrameError):
            protocol.unpack_job(protocol.frame(protocol.dump(bad)))


def test_job_of_no_inputs_round_trips():
    """Does an exercise with no inputs come back with an empty tuple of inputs?"""
    (exercise,) = protocol.unpack_job(protocol.pack_job(Job((dataclasses.replace(EXERCISE, inputs=()),)))).exercises
    assert exercise.inputs == ()


def test_job_size_cap():
    """Is a job above MAX_JOB_BYTES refused when packed?"""
    huge = dataclasses.replace(EXERCISE, source="#" * protocol.MAX_JOB_BYTES)
    with pytest.raises(ValueError):
        protocol.pack_job(Job((huge,)))


def test_job_that_announces_more_than_the_cap_is_refused():
    """Is a job frame whose length field exceeds MAX_JOB_BYTES refused, even if it is otherwise whole?"""
    payload = protocol.dump({"exercises": []})
    forged = protocol.MAGIC + struct.pack("<Q", protocol.MAX_JOB_BYTES + 1) + payload
    with pytest.raises(FrameError):
        protocol.unpack_job(forged)


def test_inputs_round_trip():
    """Do a job's input tensors come back as a tuple of equal plain tensors, views and non-contiguous ones too?"""
    base = torch.arange(12.0).reshape(3, 4)
    inputs = (base.t(), base[1], torch.tensor(True), torch.empty(0, 3, dtype=torch.int64))
    (exercise,) = protocol.unpack_job(protocol.pack_job(Job((dataclasses.replace(EXERCISE, inputs=inputs),)))).exercises
    _same_exercise(exercise, dataclasses.replace(EXERCISE, inputs=inputs))


def test_ready_round_trip():
    """Does the zygote's ready message give back the sandbox report it carried?"""
    ready = ZygoteReady(layers={"landlock": True, "missing": ["no seccomp here"], "summary": "sandbox: landlock"})
    assert protocol.unpack_ready(protocol.pack_ready(ready)) == ready


def test_kill_order_round_trip():
    """Is the pool's kill order the one control message the zygote reads?"""
    assert protocol.unpack_control(protocol.pack_kill()) == "kill"


@pytest.mark.parametrize("ended", [
    ChildExit(exit_code=0, timed_out=False, killed=False, max_rss_kb=183_424, wall=0.0123),
    ChildExit(exit_code=-9, timed_out=True, killed=False, max_rss_kb=0, wall=1.0),
    ChildExit(exit_code=-9, timed_out=False, killed=True, max_rss_kb=1, wall=0.5),
    ChildExit(exit_code=protocol.EXIT_SETUP_FAILED, timed_out=False, killed=False, max_rss_kb=1, wall=0.0),
    ChildExit(exit_code=-255, timed_out=False, killed=False, max_rss_kb=0, wall=0),
], ids=["ok", "timed-out", "killed", "setup-failed", "lowest-code"])
def test_exit_round_trip(ended):
    """Does the zygote's per-run report come back as the same ChildExit (wall always a float)?"""
    back = protocol.unpack_exit(protocol.pack_exit(ended))
    assert back == ended and type(back.wall) is float


CASE = {"error": None, "stage": "call", "returned": {"kind": "none"}, "grad": {"kind": "none"}}

ENVELOPES = [
    (ResultEnvelope("ok", cases=(CASE, CASE)), 2),
    (ResultEnvelope("ok"), 0),
    (ResultEnvelope("load_error", error={"type": "SyntaxError", "message": "bad", "frames": []}), 1),
    (ResultEnvelope("missing_function", defined=("helper", "other")), 3),
]
ENVELOPE_IDS = ["ok", "ok-no-cases", "load-error", "missing-function"]


def _bare(envelope: ResultEnvelope) -> bytes:
    return protocol.frame(protocol.dump(protocol.result_data(envelope)))


@pytest.mark.parametrize("envelope, cases", ENVELOPES, ids=ENVELOPE_IDS)
def test_result_round_trip(envelope, cases):
    """Does each kind of bare result envelope survive result_data/unpack_result unchanged?"""
    assert protocol.unpack_result(_bare(envelope), cases) == envelope


@pytest.mark.parametrize("envelope, cases", ENVELOPES, ids=ENVELOPE_IDS)
@pytest.mark.parametrize("index", [0, 7])
def test_exercise_frame_round_trip(envelope, cases, index):
    """Does an exercise frame give back its index and its envelope unchanged?"""
    assert protocol.unpack_exercise(protocol.pack_exercise(index, envelope), cases) == (index, envelope)


def test_exercise_frame_length_is_announced_by_its_header():
    """Does frame_length tell a whole frame's length from its header alone, and wait (None) for a partial header?"""
    framed = protocol.pack_exercise(0, ResultEnvelope("ok", cases=(CASE,)))
    assert protocol.frame_length(framed) == len(framed)
    assert protocol.frame_length(framed[: protocol.FRAME_HEADER]) == len(framed)
    assert protocol.frame_length(framed + b"next frame") == len(framed)
    for cut in range(protocol.FRAME_HEADER):
        assert protocol.frame_length(framed[:cut]) is None


@pytest.mark.parametrize("data", [
    b"garbage!" + bytes(20),
    b"A" + b"X",
    b'{"index": 0}',
    protocol.MAGIC + struct.pack("<Q", protocol.MAX_RESULT_BYTES + 1),
], ids=["garbage", "wrong-prefix", "json", "oversized"])
def test_frame_length_refuses_what_cannot_be_a_frame(data):
    """Are bytes that cannot start a frame, or a header announcing more than MAX_RESULT_BYTES, a FrameError at once?"""
    with pytest.raises(FrameError):
        protocol.frame_length(data)


def test_result_carries_tensors_in_its_cases():
    """Does a case's tensor data reach the reader as a plain tensor inside the envelope?"""
    case = {**CASE, "returned": {"kind": "tensor", "data": torch.arange(3.0)}}
    index, envelope = protocol.unpack_exercise(protocol.pack_exercise(0, ResultEnvelope("ok", cases=(case,))), 1)
    (loaded,) = envelope.cases
    assert index == 0 and torch.equal(loaded["returned"]["data"], torch.arange(3.0))


_DROP = object()
"""As a changed field's value: leave the field out."""


def _changed(tree: dict, changes: dict) -> dict:
    tree = {**tree, **changes}
    return {name: value for name, value in tree.items() if value is not _DROP}


def _order(**changes: object) -> bytes:
    tree = {**dataclasses.asdict(ORDER), "readable": list(ORDER.readable)}
    return json.dumps(_changed(tree, changes)).encode()


MALFORMED_ORDERS = {
    **{f"missing-{f.name}": _order(**{f.name: _DROP}) for f in dataclasses.fields(RunOrder)},
    "extra-field": _order(score=100),
    "extra-source": _order(source="def f(x): ..."),
    "scratch-None": _order(scratch=None),
    "scratch-int": _order(scratch=0),
    "scratch-nested": _order(scratch={"path": "/tmp/run-0"}),
    "readable-str": _order(readable="/course"),
    "readable-ints": _order(readable=[1, 2]),
    "readable-nested": _order(readable=[["/course"]]),
    "wall_seconds-nested": _order(wall_seconds=[10.0]),
    "wall_seconds-bool": _order(wall_seconds=True),
    "wall_seconds-nan": _order(wall_seconds=float("nan")),
    "wall_seconds-inf": _order(wall_seconds=float("inf")),
    "wall_seconds-huge": _order(wall_seconds=1e300),
    "wall_seconds-zero": _order(wall_seconds=0),
    "wall_seconds-negative": _order(wall_seconds=-1.0),
    "wall_seconds-str": _order(wall_seconds="10"),
    "cpu_seconds-zero": _order(cpu_seconds=0),
    "cpu_seconds-float": _order(cpu_seconds=12.0),
    "cpu_seconds-bool": _order(cpu_seconds=True),
    "cpu_seconds-huge": _order(cpu_seconds=10**12),
    "cpu_seconds-str": _order(cpu_seconds="12"),
    "memory_mb-nested": _order(memory_mb=[1024]),
    "memory_mb-bool": _order(memory_mb=True),
    "memory_mb-float": _order(memory_mb=1024.0),
    "memory_mb-negative": _order(memory_mb=-1),
    "memory_mb-huge": _order(memory_mb=10**30),
    "memory_mb-overflows-rlimit": _order(memory_mb=1 << 43),
    "list": json.dumps([json.loads(_order())]).encode(),
    "not-json": b'{"scratch": "/tmp',
    "not-utf8": b"\xff\xfe",
    "empty": b"",
}


@pytest.mark.parametrize("message", MALFORMED_ORDERS.values(), ids=MALFORMED_ORDERS.keys())
def test_malformed_orders_are_refused(message):
    """Is a run order with a field missing, extra, mistyped, nested or out of range a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_order(message)


def _job_entry(**changes: object) -> dict:
    tree = {**dataclasses.asdict(dataclasses.replace(EXERCISE, inputs=())), "inputs": list(EXERCISE.inputs)}
    return _changed(tree, changes)


def _job(tree: object) -> bytes:
    return protocol.frame(protocol.dump(tree))


MALFORMED_JOBS = {
    **{f"missing-{f.name}": _job({"exercises": [_job_entry(**{f.name: _DROP})]})
       for f in dataclasses.fields(JobExercise)},
    "exercise-extra-field": _job({"exercises": [_job_entry(score=100)]}),
    "job-extra-field": _job({"exercises": [_job_entry()], "score": 100}),
    "no-exercises-field": _job({}),
    "no-exercises": _job({"exercises": []}),
    "exercises-mapping": _job({"exercises": {"0": _job_entry()}}),
    "exercise-list": _job({"exercises": [list(_job_entry().values())]}),
    "second-exercise-bad": _job({"exercises": [_job_entry(), _job_entry(source=None)]}),
    "exercise_id-int": _job({"exercises": [_job_entry(exercise_id=3)]}),
    "source-None": _job({"exercises": [_job_entry(source=None)]}),
    "source-bytes-list": _job({"exercises": [_job_entry(source=[100, 101])]}),
    "function-nested": _job({"exercises": [_job_entry(function=["sum_backward"])]}),
    "filename-tensor": _job({"exercises": [_job_entry(filename=torch.ones(1))]}),
    "inputs-mapping": _job({"exercises": [_job_entry(inputs={"x": torch.ones(2)})]}),
    "inputs-number": _job({"exercises": [_job_entry(inputs=[torch.ones(2), 3.0])]}),
    "inputs-nested": _job({"exercises": [_job_entry(inputs=[[torch.ones(2)]])]}),
    "inputs-bare-tensor": _job({"exercises": [_job_entry(inputs=torch.ones(2))]}),
    "inputs-None": _job({"exercises": [_job_entry(inputs=[None])]}),
    "list": _job([_job_entry()]),
    "unframed": protocol.dump({"exercises": [_job_entry()]}),
    "truncated": _job({"exercises": [_job_entry()]})[:-1],
    "trailing-bytes": _job({"exercises": [_job_entry()]}) + b"x",
    "not-a-payload": protocol.frame(b"\x00\x01"),
    "empty": b"",
}


@pytest.mark.parametrize("data", MALFORMED_JOBS.values(), ids=MALFORMED_JOBS.keys())
def test_malformed_jobs_are_refused(data):
    """Is a job with an exercise field missing, extra or mistyped, or inputs not a flat list of tensors, a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_job(data)


def _exit(**changes: object) -> bytes:
    tree = dataclasses.asdict(ChildExit(exit_code=0, timed_out=False, killed=False, max_rss_kb=1000, wall=0.5))
    return json.dumps(_changed(tree, changes)).encode()


MALFORMED_EXITS = {
    **{f"missing-{f.name}": _exit(**{f.name: _DROP}) for f in dataclasses.fields(ChildExit)},
    "extra-field": _exit(score=100),
    "exit_code-bool": _exit(exit_code=True),
    "exit_code-float": _exit(exit_code=0.0),
    "exit_code-huge": _exit(exit_code=10**6),
    "exit_code-too-low": _exit(exit_code=-256),
    "exit_code-nested": _exit(exit_code=[0]),
    "exit_code-None": _exit(exit_code=None),
    "timed_out-int": _exit(timed_out=1),
    "timed_out-str": _exit(timed_out="yes"),
    "timed_out-None": _exit(timed_out=None),
    "killed-int": _exit(killed=0),
    "killed-str": _exit(killed="no"),
    "max_rss_kb-bool": _exit(max_rss_kb=False),
    "max_rss_kb-nan": _exit(max_rss_kb=float("nan")),
    "max_rss_kb-inf": _exit(max_rss_kb=float("inf")),
    "max_rss_kb-huge": _exit(max_rss_kb=10**30),
    "max_rss_kb-negative": _exit(max_rss_kb=-1),
    "max_rss_kb-float": _exit(max_rss_kb=1000.0),
    "wall-nan": _exit(wall=float("nan")),
    "wall-inf": _exit(wall=float("inf")),
    "wall-negative": _exit(wall=-0.1),
    "wall-huge": _exit(wall=1e300),
    "wall-str": _exit(wall="0.5"),
    "wall-bool": _exit(wall=True),
    "wall-nested": _exit(wall={"seconds": 0.5}),
    "list": b"[0, false, false, 1000, 0.5]",
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


MALFORMED_CONTROLS = {
    "kill-false": b'{"kill": false}',
    "kill-int": b'{"kill": 1}',
    "kill-str": b'{"kill": "yes"}',
    "extra-field": b'{"kill": true, "signal": 9}',
    "other-order": b'{"stop": true}',
    "a-run-order": _order(),
    "list": b'["kill"]',
    "not-json": b'{"kill": tr',
    "not-utf8": b"\xff",
    "empty": b"",
}


@pytest.mark.parametrize("message", MALFORMED_CONTROLS.values(), ids=MALFORMED_CONTROLS.keys())
def test_malformed_control_messages_are_refused(message):
    """Is a control message that is not exactly {"kill": true} a FrameError (never taken for a kill)?"""
    with pytest.raises(FrameError):
        protocol.unpack_control(message)


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


@pytest.mark.parametrize("tree", MALFORMED_RESULTS.values(), ids=MALFORMED_RESULTS.keys())
def test_malformed_results_in_an_exercise_frame_are_refused(tree):
    """Is an exercise frame whose envelope is malformed a FrameError, never a result?"""
    with pytest.raises(FrameError):
        protocol.unpack_exercise(protocol.frame(protocol.dump({"index": 0, "result": tree})), 1)


GOOD_RESULT = {"status": "ok", "cases": [CASE]}

MALFORMED_EXERCISE_FRAMES = {
    "index-missing": {"result": GOOD_RESULT},
    "result-missing": {"index": 0},
    "extra-field": {"index": 0, "result": GOOD_RESULT, "score": 100},
    "index-bool": {"index": False, "result": GOOD_RESULT},
    "index-float": {"index": 0.0, "result": GOOD_RESULT},
    "index-negative": {"index": -1, "result": GOOD_RESULT},
    "index-huge": {"index": 1 << 63, "result": GOOD_RESULT},
    "index-str": {"index": "0", "result": GOOD_RESULT},
    "index-nan": {"index": float("nan"), "result": GOOD_RESULT},
    "index-None": {"index": None, "result": GOOD_RESULT},
    "result-list": {"index": 0, "result": [GOOD_RESULT]},
    "result-str": {"index": 0, "result": "ok"},
    "bare-envelope": GOOD_RESULT,
    "list": [0, GOOD_RESULT],
}


@pytest.mark.parametrize("tree", MALFORMED_EXERCISE_FRAMES.values(), ids=MALFORMED_EXERCISE_FRAMES.keys())
def test_malformed_exercise_frames_are_refused(tree):
    """Is an exercise frame with its index or result missing, extra, mistyped or out of range a FrameError?"""
    with pytest.raises(FrameError):
        protocol.unpack_exercise(protocol.frame(protocol.dump(tree)), 1)


@pytest.mark.parametrize("read", [
    lambda data: protocol.unpack_result(data, 1),
    lambda data: protocol.unpack_exercise(data, 1),
], ids=["bare", "exercise"])
def test_result_that_is_not_a_frame_is_refused(read):
    """Is an unframed payload, a damaged frame, or a frame that holds no payload, a FrameError?"""
    whole = protocol.pack_exercise(0, ResultEnvelope("ok", cases=(CASE,)))
    for data in (protocol.dump({"index": 0, "result": GOOD_RESULT}), protocol.frame(b"\x00\x01"),
                 whole[:-1], whole + b"\0", whole + whole, b""):
        with pytest.raises(FrameError):
            read(data)


@pytest.mark.parametrize("shape", [[0, 1 << 62, 1 << 62], [0, 1 << 63], [-1], [True], [2.0]],
                         ids=["empty-overflowing", "dim-huge", "dim-negative", "dim-bool", "dim-float"])
def test_tensor_shapes_out_of_range_are_refused(shape):
    """Is a tensor descriptor whose shape torch cannot hold a FrameError, not torch's own exception?"""
    header = json.dumps({"__tensor__": ["float32", shape, 0, 0]}).encode()
    with pytest.raises(FrameError):
        protocol.load(struct.pack("<I", len(header)) + header)
