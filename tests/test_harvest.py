"""grader.runner.harvest: whatever code returned or raised becomes plain, inert data."""

from __future__ import annotations

import importlib.util
from typing import get_args

import pytest
import torch

from grader.runner import harvest, wire
from helpers import SUBMISSIONS


def load_fixture(scenario: str, filename: str):
    """Import a fixture submission in this process (our own fixture, so trusted here)."""
    path = SUBMISSIONS / scenario / filename
    spec = importlib.util.spec_from_file_location(f"fixture_{scenario}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tensor_keeps_values_and_autograd_facts():
    """Does a returned tensor keep its values, shape, dtype, requires_grad and grad_fn name?"""
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    described = harvest.value(y)
    assert described["kind"] == "tensor"
    assert described["exact_type"] is True
    assert described["shape"] == list(y.shape)
    assert described["dtype"] == "float32"
    assert described["requires_grad"] is True
    assert described["grad_fn"] == type(y.grad_fn).__name__
    assert torch.equal(described["data"], y.detach())


def test_tensor_data_is_a_detached_copy():
    """Is the data a detached copy, so later changes to the original (or its graph) cannot reach it?"""
    x = torch.arange(4.0, requires_grad=True)
    y = x * 2
    data = harvest.value(y)["data"]
    assert type(data) is torch.Tensor
    assert not data.requires_grad and data.grad_fn is None
    with torch.no_grad():
        y.add_(100)
    assert not torch.equal(data, y.detach())


def test_leaf_tensor_without_graph_has_empty_grad_fn():
    """Is a plain leaf tensor reported with grad_fn '' and requires_grad False?"""
    described = harvest.value(torch.ones(3, dtype=torch.float64))
    assert described["grad_fn"] == ""
    assert described["requires_grad"] is False
    assert described["dtype"] == "float64"


def test_numbers_keep_their_python_type():
    """Are int, float and bool described as numbers with their Python type name?"""
    for number in (3, 2.5, True):
        described = harvest.value(number)
        assert described == {"kind": "number", "type": type(number).__name__, "value": float(number)}


def test_none():
    """Is None described as kind 'none'?"""
    assert harvest.value(None) == {"kind": "none"}


def test_tuple_items_are_described_one_level_deep():
    """Is a tuple described item by item, with nested sequences reduced to their type?"""
    u = torch.ones(2)
    described = harvest.value((u, 1.5, (1, 2)))
    assert described["kind"] == "sequence"
    assert described["type"] == "tuple"
    assert described["length"] == 3
    assert [item["kind"] for item in described["items"]] == ["tensor", "number", "other"]
    assert described["items"][2]["type"] == "tuple"


def test_long_list_is_capped_but_counted():
    """Does a long list keep its true length while only MAX_ITEMS items are described?"""
    described = harvest.value(list(range(harvest.MAX_ITEMS + 5)))
    assert described["length"] == harvest.MAX_ITEMS + 5
    assert len(described["items"]) == harvest.MAX_ITEMS


def test_other_objects_are_known_only_by_type():
    """Are a dict and a user-defined object reduced to their type names, with no content?"""
    assert harvest.value({"y": [1, 2]}) == {"kind": "other", "type": "dict"}

    class Answer:
        pass

    described = harvest.value(Answer())
    assert described["kind"] == "other"
    assert described["type"].endswith("Answer")
    assert described["type"].startswith(__name__)


def test_tensor_subclass_is_flagged_and_stripped():
    """Is the lying Tensor subclass of the tensor_subclass fixture flagged, with its plain values as data?"""
    module = load_fixture("tensor_subclass", "ex03_sum_backward.py")
    returned = module.sum_backward(torch.arange(4.0))
    assert returned.equal(torch.arange(4.0) ** 2)  # it lies when asked directly
    described = harvest.value(returned)
    assert described["kind"] == "tensor"
    assert described["exact_type"] is False
    assert described["type"].endswith("AlwaysEqual")
    assert type(described["data"]) is torch.Tensor
    plain = torch.Tensor.as_subclass(returned, torch.Tensor)
    assert torch.equal(described["data"], plain)
    assert not torch.allclose(described["data"], torch.arange(4.0) ** 2)


def test_huge_tensor_is_described_without_data():
    """Is a tensor above MAX_ELEMENTS described by shape and dtype, but not copied back?"""
    huge = torch.zeros(harvest.MAX_ELEMENTS + 1)
    described = harvest.value(huge)
    assert described["kind"] == "tensor"
    assert described["data"] is None
    assert described["shape"] == [harvest.MAX_ELEMENTS + 1]


def test_sparse_tensor_is_not_copied():
    """Is a non-strided (sparse) tensor described without data?"""
    sparse = torch.eye(3).to_sparse()
    described = harvest.value(sparse)
    assert described["kind"] == "tensor"
    assert described["data"] is None


def test_exception_keeps_only_the_students_frames():
    """Does a described exception keep the student's own lines and drop the grader's frames?"""
    path = SUBMISSIONS / "ex03_nonscalar_backward" / "ex03_sum_backward.py"
    source = path.read_text(encoding="utf-8")
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - our own fixture
    with pytest.raises(RuntimeError) as caught:
        namespace["sum_backward"](torch.arange(4.0))
    described = harvest.exception(caught.value, str(path))
    assert described["type"] == "RuntimeError"
    assert "scalar outputs" in described["message"]
    assert described["frames"], "the student's line must be kept"
    assert all(frame[0] == str(path) for frame in described["frames"])
    line = described["frames"][-1][1]
    assert "backward" in source.splitlines()[line - 1]


@pytest.mark.parametrize("obj", [None, 3, torch.ones(2), (1, 2), {"y": 1}, torch.eye(2).to_sparse()],
                         ids=["none", "number", "tensor", "tuple", "dict", "sparse"])
def test_every_kind_is_a_wire_value_kind(obj):
    """Is the kind of every described value one of wire.ValueKind (what outcome.parse_value reads)?"""
    described = harvest.value(obj)
    assert described["kind"] in get_args(wire.ValueKind)
    assert all(item["kind"] in get_args(wire.ValueKind) for item in described.get("items", []))
