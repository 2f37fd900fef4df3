"""grader.runner.recorder: what the code did, observed with torch's own hooks — directly on trusted test functions,
and end to end through the real sandboxed child on the small submissions in tests/fixtures/recorder."""

from __future__ import annotations

import math

import pytest
import torch

from grader.core.cases import build_cases
from grader.runner import calling, harvest, traces
from grader.runner.facts import parse_facts
from grader.runner.pool import RunRequest
from grader.runner.recorder import Recorder
from helpers import FIXTURES, spec as exercise

RECORDED = FIXTURES / "recorder"
GRID = torch.arange(100) * (2 * math.pi / 100)


def recorded(function, given=GRID, protocol="call", banned=("cos",)):
    """The facts of one trusted test function run through the calling protocol, over the wire format."""
    record = calling.run_case(protocol, function, given, __file__, banned)
    facts = parse_facts(record["facts"])
    assert facts is not None
    return facts


# --- directly, on trusted test functions ---


def test_the_patched_entry_points_are_put_back_even_when_the_call_raises():
    """Are Tensor.backward, autograd.backward/grad, torch.tensor and the engine entry restored after a failing call,
    and is no dispatch mode left on the stack?"""
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    before = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad, torch.tensor,
              torch.autograd._engine_run_backward)

    def fails(x):
        x.requires_grad_(True)
        (x * x).sum().backward()
        raise ValueError("student's own")

    record = calling.run_case("call", fails, torch.arange(3.0), __file__)
    assert record["error"]["type"] == "ValueError"
    assert (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad, torch.tensor,
            torch.autograd._engine_run_backward) == before
    assert _get_current_dispatch_mode() is None
    assert parse_facts(record["facts"]).backward_calls[0].kind == "tensor.backward"


def test_ops_inside_and_outside_backward_are_told_apart():
    """Does the forward sin count outside backward and autograd's cos inside it, with the nodes traversed?"""
    def derivative(x):
        x.requires_grad_(True)
        torch.sin(x).sum().backward()
        return x.grad

    facts = recorded(derivative)
    outside, inside = dict(facts.ops_outside_backward), dict(facts.ops_in_backward)
    assert outside.get("sin") == 1 and "cos" not in outside
    assert inside.get("cos") == 1
    assert {"SinBackward0", "SumBackward0", "AccumulateGrad"} <= set(facts.backward_nodes)
    assert facts.returned == ("input_grad",) and facts.leaves == "input"
    assert facts.forbidden_outside_backward == () and not facts.custom_backward


def test_a_backward_call_records_its_line_gradient_and_retain_graph():
    """Is the line the student's own, and are gradient= and retain_graph=True noted per pass?"""
    def twice(x):
        x.requires_grad_(True)
        y = x * x
        y.backward(torch.ones_like(y), retain_graph=True)
        y.sum().backward()
        return y

    facts = recorded(twice, torch.arange(4.0), banned=())
    first, second = facts.backward_calls
    assert first.gradient_given and first.retain_graph and not first.root_scalar
    assert not second.gradient_given and not second.retain_graph and second.root_scalar
    assert second.line == first.line + 1 > 0


def test_a_light_run_records_backward_passes_but_no_ops():
    """Without the dispatch mode (the shared first run), are the passes still known and the ops said to be unknown?"""
    def once(x):
        x.requires_grad_(True)
        y = torch.dot(x, x)
        y.backward()
        return y

    record = calling.run_case("call", once, torch.arange(4.0), __file__, (), record_ops=False)
    light = parse_facts(record["facts"])
    full = recorded(once, torch.arange(4.0), banned=())
    assert light is not None and not light.ops_recorded and full.ops_recorded
    assert len(light.backward_calls) == len(full.backward_calls) == 1
    assert light.ops_outside_backward == () and dict(full.ops_outside_backward).get("dot") == 1


def test_a_hook_in_backward_is_custom_backward():
    """Does student code run inside backward through a tensor hook count as a custom derivative?"""
    def hooked(x):
        x.requires_grad_(True)
        y = torch.sin(x)
        y.register_hook(lambda grad: grad * 1.0)
        y.sum().backward()
        return x.grad

    assert recorded(hooked).custom_backward


def test_a_new_leaf_made_from_nothing_does_not_hold_the_input():
    """Is a leaf made with torch.ones the student's own, made by 'ones', and not a copy of the input?"""
    def own(x):
        t = torch.ones(len(x), requires_grad=True)
        (t * t).sum().backward()
        return t.grad

    facts = recorded(own, torch.arange(4.0), banned=())
    assert facts.leaves == "new" and facts.new_leaf_ops == ("ones",)
    assert not facts.new_leaf_from_input and facts.returned == ("leaf_grad",)


def test_a_broken_recorder_gives_no_facts_but_the_run_goes_on():
    """When the recorder's own bookkeeping fails, is the student's result still harvested, with facts None?"""
    x = torch.arange(3.0)
    recorder = Recorder(x, x, __file__, ())
    with recorder:
        recorder._seen = None  # type: ignore[assignment] - every op's bookkeeping now fails
        y = x * 2
    assert torch.equal(y, torch.arange(3.0) * 2)
    assert recorder.facts(y) is None
    assert harvest.facts(None) is None


def test_a_flood_of_op_names_and_passes_stays_bounded():
    """Do 100 backward passes keep at most 64 records, and 300 distinct op names at most 200 counts?"""
    def flood(x):
        x.requires_grad_(True)
        for _ in range(100):
            (torch.sin(x) + torch.exp(x)).sum().backward()
        return x.grad

    facts = recorded(flood, torch.arange(1.0, 5.0), banned=())
    assert len(facts.backward_calls) == 64
    counts: dict[str, int] = {}
    for index in range(300):
        traces.count(counts, f"op{index}")
    traces.count(counts, "op0")
    assert len(counts) == 200 and counts["op0"] == 2


# --- end to end, through the real child ---


def run_fixture(pool, exercise_id: str, name: str):
    """Every case of ``exercise_id`` run by the sandboxed child on tests/fixtures/recorder/<name>.py."""
    spec = exercise(exercise_id)
    cases = build_cases(spec, 2026, include_hidden=True)
    request = RunRequest(exercise_id=exercise_id, protocol=spec.protocol, function=spec.function,
                         source=(RECORDED / f"{name}.py").read_text("utf-8"), filename=f"{name}.py",
                         inputs=tuple(case.input for case in cases), timeout=spec.timeout, memory_mb=spec.memory_mb,
                         banned=spec.banned)
    result = pool.run(request)
    assert result.status == "ok", (result.status, result.detail, result.output)
    assert all(case.facts is not None for case in result.cases)
    return [case.facts for case in result.cases]


@pytest.mark.parametrize("name, ops, from_input", [
    ("ex03_arange_leaf", ("arange",), False),
    ("ex03_tensor_copy", ("lift_fresh",), True),
])
def test_a_leaf_the_student_made_is_named_by_the_op_that_made_it(pool, name, ops, from_input):
    """Does torch.arange(4.0, requires_grad=True) or torch.tensor(x, requires_grad=True) show as a new leaf?"""
    facts = run_fixture(pool, "ex03", name)[-1]  # a hidden case: its length is not 4
    assert facts.leaves == "new" and facts.new_leaf_ops == ops
    assert facts.new_leaf_from_input is from_input


def test_no_grad_is_recorded(pool):
    """Is y = x * x under torch.no_grad() recorded as grad mode off, with no backward pass?"""
    facts = run_fixture(pool, "ex03", "ex03_no_grad")[0]
    assert facts.grad_mode_off and facts.backward_calls == ()


def test_backward_inside_f_is_the_students_pass_then_the_graders(pool):
    """ex05 (call_backward): is f's own c.backward() recorded at its line, before the grader's pass?"""
    facts = run_fixture(pool, "ex05", "ex05_backward_in_f")[0]
    own = [call for call in facts.backward_calls if call.kind != "grader"]
    assert [call.kind for call in own] == ["tensor.backward"] and own[0].line == 9


def test_returned_grad_and_swapped_tuple_are_told_by_identity(pool):
    """Is x.grad returned named input_grad, and does (z, u) come back as two plain values?"""
    assert run_fixture(pool, "ex03", "ex03_returned_grad")[0].returned == ("input_grad",)
    assert run_fixture(pool, "ex04", "ex04_swapped")[0].returned == ("value", "value")


@pytest.mark.parametrize("name", ["ex06_getattr_cos", "ex06_shifted_sin", "ex06_complex_exp"])
def test_ex06_cosines_however_reached_are_flagged(pool, name):
    """Is a cosine computed outside backward flagged on every case, whatever spelling reached it?"""
    assert all(facts.forbidden_outside_backward == ("cos",) for facts in run_fixture(pool, "ex06", name))


def test_ex06_custom_function_is_custom_backward(pool):
    """Is a custom autograd.Function whose backward is a shifted sin flagged as a derivative the student wrote?"""
    for facts in run_fixture(pool, "ex06", "ex06_custom_function"):
        assert facts.custom_backward
        assert not facts.grad_mode_off  # autograd runs a Function's forward with grad mode off: not the student's


@pytest.mark.parametrize("name, kind", [
    ("ex06_sin_backward", "input_grad"),
    ("ex06_autograd_grad", "autograd_grad"),
    ("ex06_func_grad_vmap", "autograd_grad"),
    ("ex06_variable_named_cos", "value"),
])
def test_ex06_correct_answers_are_not_flagged(pool, name, kind):
    """Do sin + backward, autograd.grad, torch.func.grad under vmap and a variable named cos all pass as autograd
    over sin of the given x, with no cosine outside backward?"""
    for facts in run_fixture(pool, "ex06", name):
        assert facts.forbidden_outside_backward == () and not facts.custom_backward
        assert "SinBackward0" in facts.backward_nodes and facts.leaves == "input"
        assert facts.returned == (kind,)
