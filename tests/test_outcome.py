"""grader.runner.outcome: the child's data is accepted only in the exact shape of a harvest."""

from __future__ import annotations

import importlib.util
from typing import get_args

import pytest
import torch

from grader.runner import calling as drive, harvest, wire as protocol
from grader.runner.outcome import (
    InvalidResult,
    NoneValue,
    NumberValue,
    OtherValue,
    SequenceValue,
    TensorValue,
    parse_case,
    parse_value,
)
from helpers import spec as exercise, SUBMISSIONS



def over_the_wire(obj):
    """What the trusted process gets back: torch.save, then a weights-only load."""
    return protocol.load(protocol.dump(obj))


def test_tensor_round_trips_through_the_protocol():
    """Does a harvested tensor survive dump/load and parse into a TensorValue with the same facts?"""
    x = torch.arange(5.0, dtype=torch.float64, requires_grad=True)
    y = x * x
    parsed = parse_value(over_the_wire(harvest.value(y)))
    assert isinstance(parsed, TensorValue)
    assert torch.equal(parsed.data, y.detach())
    assert parsed.shape == tuple(y.shape)
    assert parsed.dtype == "float64"
    assert parsed.requires_grad is True
    assert parsed.grad_fn == type(y.grad_fn).__name__
    assert parsed.exact_type is True


@pytest.mark.parametrize("obj, kind", [
    (None, NoneValue),
    (2.5, NumberValue),
    ({"y": 1}, OtherValue),
    ((torch.ones(2), torch.zeros(2)), SequenceValue),
], ids=["none", "number", "dict", "pair"])
def test_every_kind_round_trips(obj, kind):
    """Does each kind of returned object survive dump/load and parse into its own value class?"""
    assert isinstance(parse_value(over_the_wire(harvest.value(obj))), kind)


def test_a_whole_case_round_trips():
    """Does a real run of the correct ex03 submission parse back with its returned y and x.grad?"""
    path = SUBMISSIONS / "correct" / "ex03_sum_backward.py"
    spec = importlib.util.spec_from_file_location("fixture_correct_ex03", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    given = torch.arange(4.0)
    raw = drive.run_case(exercise("ex03").protocol, module.sum_backward, given, str(path))
    run = parse_case(over_the_wire(raw))
    assert run.error is None
    assert torch.equal(run.returned.data, given * given)
    assert torch.equal(run.grad.data, 2 * given)


def test_parameter_is_rejected_and_never_crosses_the_wire():
    """Is an nn.Parameter as tensor data rejected by parse_value, and does the wire carry only plain tensors?"""
    raw = harvest.value(torch.ones(3))
    raw["data"] = torch.nn.Parameter(raw["data"])
    with pytest.raises(InvalidResult):
        parse_value(raw)
    assert type(over_the_wire(raw)["data"]) is torch.Tensor


@pytest.mark.parametrize("field, wrong", [
    ("shape", [4]),
    ("dtype", "float64"),
    ("requires_grad", "yes"),
    ("requires_grad", 1),
    ("grad_fn", None),
    ("exact_type", 0),
    ("shape", [3.0]),
    ("data", [1.0, 1.0, 1.0]),
    ("kind", "pickle"),
], ids=["shape-not-the-datas", "dtype-not-the-datas", "requires_grad-str", "requires_grad-int", "grad_fn-None",
        "exact_type-int", "shape-float", "data-list", "kind-unknown"])
def test_tensor_fields_are_type_checked_and_match_the_data(field, wrong):
    """Is a tensor description rejected when a field has the wrong type, or its shape or dtype disagrees with its data?"""
    raw = harvest.value(torch.ones(3))
    raw[field] = wrong
    with pytest.raises(InvalidResult):
        parse_value(raw)


@pytest.mark.parametrize("raw", [
    {"kind": "number", "value": "3", "type": "int"},
    {"kind": "number", "value": True, "type": "bool"},
    {"kind": "number", "type": "int"},
    {"kind": "sequence", "items": "abc", "length": 3, "type": "tuple"},
    {"kind": "sequence", "length": 1, "type": "tuple",
     "items": [{"kind": "sequence", "items": [], "length": 0, "type": "tuple"}]},
    {"kind": "other", "type": 7},
    ["kind", "none"],
    {"kind": "number", "value": 10**400, "type": "int"},
    {"kind": "sequence", "items": [{"kind": "none"}, {"kind": "none"}], "length": 1, "type": "tuple"},
    {"kind": "sequence", "items": [], "length": -1, "type": "list"},
    {"kind": "tensor", "type": "torch.Tensor", "exact_type": True, "shape": [-1], "dtype": "float32",
     "requires_grad": False, "grad_fn": "", "data": None},
], ids=["number-str", "number-bool", "number-missing", "items-str", "nested-sequence", "other-type-int", "list",
        "number-huge-int", "length-below-items", "length-negative", "shape-negative"])
def test_other_malformed_values_are_rejected(raw):
    """Are malformed numbers, sequences and non-mappings rejected rather than half-trusted?"""
    with pytest.raises(InvalidResult):
        parse_value(raw)


def test_every_stage_parses():
    """Does each wire.Stage parse as itself?"""
    for stage in get_args(protocol.Stage):
        raw = {"error": None, "stage": stage, "returned": {"kind": "none"}, "grad": {"kind": "none"}}
        assert parse_case(raw).stage == stage


def test_case_with_unknown_stage_is_rejected():
    """Is a case whose stage is neither 'call' nor 'backward' rejected?"""
    raw = {"error": None, "stage": "sideways", "returned": {"kind": "none"}, "grad": {"kind": "none"}}
    with pytest.raises(InvalidResult):
        parse_case(raw)


def _real_facts() -> dict:
    """The facts of a real run of the correct ex06 answer, as the child writes them."""
    def derivative(x):
        x.requires_grad_(True)
        torch.sin(x).sum().backward()
        return x.grad

    record = drive.run_case("call", derivative, torch.linspace(-3, 3, 9), __file__, ("cos",))
    return over_the_wire(record)


def test_facts_round_trip_into_the_case():
    """Do a real run's facts come back whole on CaseRun.facts, and is a record without facts read with None?"""
    raw = _real_facts()
    run = parse_case(raw)
    assert run.facts is not None and run.facts.returned == ("input_grad",)
    assert run.facts.backward_calls[0].kind == "tensor.backward" and "SinBackward0" in run.facts.backward_nodes
    del raw["facts"]
    assert parse_case(raw).facts is None


@pytest.mark.parametrize("forge", [
    lambda f: f.update(leaves="everything"),
    lambda f: f.update(grad_mode_off=1),
    lambda f: f.update(returned=["value"] * 201),
    lambda f: f.update(backward_calls=[["tensor.backward", -1, False, False, True]]),
    lambda f: f.update(backward_calls=[["os.system", 3, False, False, True]]),
    lambda f: f.update(backward_calls=[["tensor.backward", True, False, False, True]]),
    lambda f: f.update(ops_outside_backward=[["sin", 0]]),
    lambda f: f.update(ops_outside_backward=[["sin", 2.0]]),
    lambda f: f.update(ops_in_backward=[["x" * 81, 1]]),
    lambda f: f.update(backward_nodes=[f"Node{i}" for i in range(201)]),
    lambda f: f.update(forbidden_outside_backward="cos"),
    lambda f: f.update(extra=True),
    lambda f: f.pop("custom_backward"),
], ids=["leaves", "bool-as-int", "too-many-returned", "negative-line", "unknown-kind", "line-bool", "zero-count",
        "float-count", "long-name", "too-many-nodes", "string-not-list", "extra-field", "missing-field"])
def test_forged_facts_are_dropped_never_trusted_or_fatal(forge):
    """Does a hostile child's forged facts make the case's facts None while the rest of the case still parses?"""
    raw = _real_facts()
    forge(raw["facts"])
    run = parse_case(raw)
    assert run.facts is None
    assert run.grad.data is not None


@pytest.mark.parametrize("facts", [[], "facts", 7, {"leaves": "input"}], ids=["list", "str", "int", "partial"])
def test_facts_of_the_wrong_type_are_dropped(facts):
    """Is a facts field that is not a mapping of exactly RunFacts' fields read as no facts?"""
    raw = {"error": None, "stage": "call", "returned": {"kind": "none"}, "grad": {"kind": "none"}, "facts": facts}
    assert parse_case(raw).facts is None
