"""Diagnosis from what the code did: RunFacts (constructed here, as the child's recorder reports them) plus the
real reference runs name the misconception; the wording never contradicts the exercise's task.

The student runs are built from the reference's own runs (evaluate never executes code): a correct value with a
grad that stayed None, a swapped tuple, ... so no expected value is typed in here.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from grader.core import behaviour, evaluate, pipeline
from grader.i18n import say
from grader.runner.facts import BackwardCall, RunFacts
from grader.runner.outcome import CaseRun, ErrorInfo, Frame, NoneValue, SequenceValue, TensorValue


@pytest.fixture(scope="module")
def plans(course):
    return {p.spec.id: p for p in pipeline.plan(course, course.config.exercise_ids, include_hidden=True)}


def facts(**changes) -> RunFacts:
    """The facts of a clean autograd run on the grader's own input, with ``changes``."""
    base = RunFacts(leaves="input", new_leaf_ops=(), grad_mode_off=False,
                    backward_calls=(BackwardCall("tensor.backward", 7, False, False, True),),
                    returned=("value",), ops_outside_backward=(), ops_in_backward=(), backward_nodes=(),
                    new_leaf_from_input=False, complex_outside_backward=False, forbidden_outside_backward=(),
                    custom_backward=False)
    return dataclasses.replace(base, **changes)


def run_with(expected: CaseRun, run_facts: RunFacts | None, **fields):
    """A student's CaseRun: the reference's, with ``fields`` replaced and ``run_facts`` attached."""
    values = {"returned": expected.returned, "grad": expected.grad, "error": expected.error,
              "stage": expected.stage, **fields}
    return CaseRun(**values, facts=run_facts)


def findings(plan, check_id: str, make_run):
    check = next(c for c in plan.spec.checks if c.id == check_id)
    return [evaluate.evaluate(check, plan.spec, case, make_run(case, expected), expected)
            for case, expected in zip(plan.cases, plan.expected)]


def words(problem, lang="en") -> str:
    return say(problem, lang)


def test_new_leaf_is_named_instead_of_asking_for_requires_grad(plans):
    """x.grad None after requires_grad_ on the student's own torch.arange tensor: new_leaf, not 'call
    x.requires_grad_(True)' alone, in both languages."""
    plan = plans["ex01"]
    got = findings(plan, "x_grad", lambda case, exp: run_with(exp, facts(leaves="new", new_leaf_ops=("arange",)),
                                                               grad=NoneValue()))
    assert all(not f.passed for f in got)
    assert {f.problem.key for f in got} == {"hint.new_leaf"}
    assert "arange" in words(got[0].problem) and "x.grad is None although" in words(got[0].problem)
    assert "自己新建的张量" in words(got[0].problem, "zh")


def test_ex05_hints_never_ask_for_requires_grad_or_retain_graph(plans):
    """call_backward: a new leaf, no_grad, or a grad None get wording without requires_grad_/retain_graph."""
    plan = plans["ex05"]
    variants = [
        facts(leaves="new", new_leaf_ops=("lift_fresh",)),
        facts(grad_mode_off=True, backward_calls=()),
        None,
    ]
    for variant in variants:
        got = findings(plan, "a_grad", lambda case, exp: run_with(exp, variant, grad=NoneValue()))
        for finding in got:
            assert not finding.passed
            for lang in ("en", "zh"):
                text = words(finding.problem, lang)
                assert "requires_grad_(" not in text and "retain_graph" not in text, text


def test_backward_in_f_cites_the_students_line_never_line_0(plans):
    """ex05's f calling backward itself: the grader's own backward fails with no student frame; the hint names
    backward_in_f at the student's line, not '? line 0', and never says retain_graph or 'recompute y'."""
    plan = plans["ex05"]
    error = ErrorInfo("RuntimeError", "Trying to backward through the graph a second time", ())
    calls = (BackwardCall("tensor.backward", 9, False, False, True), BackwardCall("grader", 0, False, False, True))
    got = findings(plan, "d", lambda case, exp: run_with(exp, facts(backward_calls=calls), error=error,
                                                          stage="backward"))
    for finding in got:
        assert finding.problem.key == "hint.backward_in_f"
        for lang in ("en", "zh"):
            text = words(finding.problem, lang)
            assert "9" in text and "line 0" not in text and "?" not in text and "retain_graph" not in text


def test_error_with_no_student_frame_cites_no_line(plans):
    """Without facts, an error raised in the grader's own backward is shown with no file and no line."""
    plan = plans["ex05"]
    error = ErrorInfo("RuntimeError", "Function MulBackward0 returned an invalid gradient", ())
    got = findings(plan, "d", lambda case, exp: run_with(exp, None, error=error, stage="backward"))
    text = words(got[0].problem)
    assert "line 0" not in text and "?" not in text and "MulBackward0" in text


def test_second_backward_error_never_advises_retain_graph(plans):
    """ex01 with two backward calls on one y: the error's advice says once, never retain_graph."""
    plan = plans["ex01"]
    error = ErrorInfo("RuntimeError", "Trying to backward through the graph a second time (or directly access "
                      "saved tensors after they have already been freed).", (Frame("ex01_gradient_4x.py", 8,
                                                                                    "gradient_4x", "y.backward()"),))
    got = findings(plan, "y", lambda case, exp: run_with(exp, None, error=error))
    for lang in ("en", "zh"):
        assert "retain_graph" not in words(got[0].problem, lang)
    assert got[0].problem.key == "backward_twice.once"


def test_swapped_tuple_is_named_on_every_check_of_the_tuple(plans):
    """ex04 returning (z, u): the tuple checks say 'wrong order', not 'use y.detach()'."""
    plan = plans["ex04"]

    def swapped(case, exp):
        items = exp.returned.items
        return run_with(exp, facts(returned=("value", "value")),
                        returned=SequenceValue((items[1], items[0]), 2, "tuple"))

    for check_id in ("u", "u_detached", "z"):
        got = findings(plan, check_id, swapped)
        assert all(f.problem.key == "hint.swapped_outputs" for f in got), check_id
    assert "(u, z)" in words(got[0].problem) and "(z, u)" in words(got[0].problem)


def test_returned_grad_and_returned_input_are_named(plans):
    """Returning x.grad instead of y, or x itself, is named from the returned kind."""
    plan = plans["ex03"]
    grad_as_y = findings(plan, "y", lambda case, exp: run_with(exp, facts(returned=("input_grad",)),
                                                                returned=exp.grad))
    assert {f.problem.key for f in grad_as_y if not f.passed} == {"hint.returned_grad"}
    x_as_y = findings(plan, "y", lambda case, exp: run_with(
        exp, facts(returned=("input",)), returned=dataclasses.replace(exp.returned, data=case.input)))
    assert {f.problem.key for f in x_as_y if not f.passed} == {"hint.returned_input"}


def test_mean_backward_never_mentions_a_gradient_argument(plans):
    """x.grad = 2x / n (y.mean().backward()): mean_backward, not 'the gradient argument weights each element'."""
    plan = plans["ex03"]

    def mean(case, exp):
        return run_with(exp, facts(), grad=dataclasses.replace(exp.grad, data=exp.grad.data / case.input.numel()))

    got = [f for f in findings(plan, "x_grad", mean) if not f.passed]
    assert got and {f.problem.key for f in got} == {"hint.mean_backward"}
    for lang in ("en", "zh"):
        assert "gradient" not in words(got[0].problem, lang).replace("the right gradient", "")
        assert "y.mean()" in words(got[0].problem, lang)


def test_retain_graph_twice_and_grad_assigned(plans):
    """Two backward passes with retain_graph (8x) name retain_graph_twice; x.grad written without any backward
    names grad_assigned."""
    plan = plans["ex01"]
    twice = (BackwardCall("tensor.backward", 8, False, True, True), BackwardCall("tensor.backward", 9, False, False, True))
    got = findings(plan, "x_grad", lambda case, exp: run_with(
        exp, facts(backward_calls=twice), grad=dataclasses.replace(exp.grad, data=2 * exp.grad.data)))
    assert {f.problem.key for f in got} == {"hint.retain_graph_twice"}
    assert "without retain_graph" in words(got[0].problem)
    hand = findings(plan, "x_grad", lambda case, exp: run_with(
        exp, facts(backward_calls=()), grad=dataclasses.replace(exp.grad, data=-exp.grad.data)))
    assert {f.problem.key for f in hand if not f.passed} == {"hint.grad_assigned"}
    estimate = findings(plan, "x_grad", lambda case, exp: run_with(
        exp, facts(backward_calls=()), grad=dataclasses.replace(exp.grad, data=exp.grad.data * 1.001 + 1e-3)))
    assert {f.problem.key for f in estimate} == {"hint.finite_difference"}


def test_hard_coded_size_on_hidden_cases_only(plans):
    """A size error on hidden cases is one message (identical on every case, so it is said once)."""
    plan = plans["ex03"]
    error = ErrorInfo("RuntimeError", "The size of tensor a (4) must match the size of tensor b (7) at non-singleton "
                      "dimension 0", (Frame("ex03_sum_backward.py", 6, "sum_backward", "y = x * torch.ones(4)"),))
    got = findings(plan, "y", lambda case, exp: exp if case.public else run_with(exp, facts(), error=error))
    assert got[0].passed
    hidden = [f.problem for f in got[1:]]
    assert hidden and len(set(hidden)) == 1 and hidden[0].key == "hint.hard_coded_size"


def test_forward_value_mismatch_is_not_called_autograd(plans):
    """A wrong forward value is 'differs from the expected value', never 'not what autograd should give'."""
    plan = plans["ex01"]
    got = findings(plan, "y", lambda case, exp: run_with(
        exp, facts(), returned=dataclasses.replace(exp.returned, data=exp.returned.data + 1)))
    assert got[0].problem.key == "mismatch.value"
    assert "autograd" not in words(got[0].problem)


# --- ex06: the autograd_only check, from behaviour ---------------------------------------------------------

def ex06_result(plan, case_facts, source_hits=(), answers_right=True, grad_left=True):
    check = next(c for c in plan.spec.checks if c.kind == "autograd_only")
    runs = tuple(run_with(exp, case_facts, **({} if grad_left else {"grad": NoneValue()})) for exp in plan.expected)
    source = SimpleNamespace(display=plan.spec.filename, banned_hits=tuple(source_hits))
    return behaviour.autograd_only(plan.spec, check, plan.cases, runs, source, answers_right, 1.0)


CLEAN = dict(returned=("input_grad",), backward_nodes=("SinBackward0", "SumBackward0"))


@pytest.mark.parametrize("changes, key", [
    (dict(CLEAN, forbidden_outside_backward=("cos",)), "hint.cos_outside_backward"),
    (dict(CLEAN, custom_backward=True), "hint.not_from_autograd.custom"),
    (dict(CLEAN, custom_backward=True, ops_in_backward=(("cos", 1), ("mul", 1))), "hint.cos_outside_backward"),
    (dict(CLEAN, returned=("value",), backward_calls=()), "hint.not_from_autograd"),
    (dict(CLEAN, backward_nodes=("AddBackward0", "SumBackward0")), "hint.not_from_autograd.through"),
    (dict(CLEAN, returned=("leaf_grad",), leaves="new", new_leaf_ops=("linspace",)), "hint.own_grid"),
], ids=["cos-outside-backward", "custom-function", "custom-function-cos", "not-from-autograd", "not-through-sin", "own-grid"])
def test_ex06_cheats_get_no_points(plans, changes, key):
    """Each way around autograd fails the check, with its own message, whatever the source text says."""
    result = ex06_result(plans["ex06"], facts(**changes), grad_left=False)
    assert not result.passed and result.score == 0
    assert {f.problem.key for f in result.findings} == {key}
    assert say(result.findings[0].problem, "zh")


@pytest.mark.parametrize("changes", [
    CLEAN,
    dict(CLEAN, returned=("autograd_grad",)),
    dict(CLEAN, returned=("leaf_grad",), leaves="new", new_leaf_ops=("clone",), new_leaf_from_input=True),
], ids=["backward", "autograd-grad", "clone-of-x"])
def test_ex06_autograd_answers_pass_even_when_the_source_names_cos(plans, changes):
    """A clean run earns the check although the text scan found 'cos' (a label, a variable): names never count."""
    from grader.core.source_scan import SourceHit

    result = ex06_result(plans["ex06"], facts(**changes), source_hits=(SourceHit(9, "plt.plot(x, d, label='cos')",
                                                                                 "cos"),))
    assert result.passed and result.score == 1.0


def test_ex06_without_facts_falls_back_to_the_source_scan(plans):
    """No facts (the recorder failed): the text scan decides, as before."""
    from grader.core.source_scan import SourceHit

    flagged = ex06_result(plans["ex06"], None, source_hits=(SourceHit(6, "return torch.cos(x)", "cos"),))
    assert not flagged.passed and flagged.findings[0].problem.key == "banned.cos"
    assert ex06_result(plans["ex06"], None).passed
    assert not ex06_result(plans["ex06"], facts(**CLEAN), answers_right=False).passed


def test_behaviour_agrees_with_the_text_cites_the_line(plans):
    """When the behaviour shows a cosine and the text has one, the message points at the student's line."""
    from grader.core.source_scan import SourceHit

    result = ex06_result(plans["ex06"], facts(**dict(CLEAN, forbidden_outside_backward=("cos",))),
                         source_hits=(SourceHit(6, "expected = x.cos()", "cos"),))
    assert result.findings[0].problem.key == "hint.cos_outside_backward.line"
    assert "6" in say(result.findings[0].problem, "en")


def test_detaching_x_instead_of_y_is_named(plans):
    """ex04 with z = u * x.detach() and u = y: x.grad = 2x², recognised by the detached_wrong plug-in config lists."""
    plan = plans["ex04"]

    def detached_x(case, exp):
        grad = dataclasses.replace(exp.grad, data=2 * case.input * case.input)
        return run_with(exp, facts(returned=("value", "value")), grad=grad)

    got = [f for f in findings(plan, "x_grad", detached_x) if not f.passed]
    assert got and {f.problem.key for f in got} == {"hint.detached_wrong"}
    assert "y.detach()" in words(got[0].problem) and "y.detach()" in words(got[0].problem, "zh")


def test_vector_where_a_scalar_is_expected(plans):
    """ex01 with y = 2 * x * x (a vector): named vector_not_scalar, on the public case too."""
    plan = plans["ex01"]
    got = findings(plan, "y", lambda case, exp: run_with(exp, facts(), returned=dataclasses.replace(
        exp.returned, data=2 * case.input * case.input, shape=tuple(case.input.shape))))
    assert {f.problem.key for f in got} == {"hint.vector_not_scalar"}


def test_ex06_copy_of_x_grad_counts_as_from_autograd(plans):
    """The reference's own `x.grad.detach().clone()` is a new object ('value') holding exactly x.grad: it passes;
    a 'value' that is not x.grad's copy does not."""
    plan = plans["ex06"]
    check = next(c for c in plan.spec.checks if c.kind == "autograd_only")
    clean = facts(**dict(CLEAN, returned=("value",)))
    for expected in plan.expected:
        as_grad = run_with(expected, clean, grad=expected.returned)
        assert behaviour.behaviour_problem(check, clean, as_grad) is None
        other = run_with(expected, clean, grad=dataclasses.replace(expected.returned, data=expected.returned.data + 1))
        assert behaviour.behaviour_problem(check, clean, other).key == "hint.not_from_autograd"


def test_ex06_finite_difference_and_detached_backward(plans):
    """A difference quotient (sin twice, a subtraction, a division, no backward) fails ex06's check as
    finite_difference; backward() on a detached result (ex04) is detached_wrong, not 'call requires_grad_'."""
    quotient = facts(backward_calls=(), returned=("value",),
                     ops_outside_backward=(("add", 1), ("div", 1), ("sin", 2), ("sub", 2)))
    result = ex06_result(plans["ex06"], quotient, grad_left=False)
    assert not result.passed and {f.problem.key for f in result.findings} == {"hint.finite_difference.estimate"}
    plan = plans["ex04"]
    error = ErrorInfo("RuntimeError", "element 0 of tensors does not require grad and does not have a grad_fn",
                      (Frame("ex04_detach.py", 9, "detach_product", "z.sum().backward()"),))
    got = findings(plan, "z", lambda case, exp: run_with(exp, facts(ops_outside_backward=(("detach", 1), ("mul", 2))),
                                                          error=error))
    assert {f.problem.key for f in got} == {"hint.detached_wrong.backward"}
    assert "requires_grad_" not in words(got[0].problem)


def test_ex05_backward_errors_without_facts_never_contradict_the_task(plans):
    """Without facts: a backward error raised in f's own code means f ran backward (backward_in_f at that line); one
    raised in the grader's backward cites no line and asks for no backward, requires_grad_ or retain_graph."""
    plan = plans["ex05"]
    inside = ErrorInfo("RuntimeError", "grad can be implicitly created only for scalar outputs",
                       (Frame("ex05_control_flow.py", 11, "f", "c.backward()"),))
    got = findings(plan, "d", lambda case, exp: run_with(exp, None, error=inside))
    assert {f.problem.key for f in got} == {"hint.backward_in_f"} and "11" in words(got[0].problem)
    grader_side = ErrorInfo("RuntimeError", "Trying to backward through the graph a second time", ())
    got = findings(plan, "d", lambda case, exp: run_with(exp, None, error=grader_side, stage="backward"))
    for lang in ("en", "zh"):
        text = words(got[0].problem, lang)
        assert "retain_graph" not in text and "requires_grad_" not in text and "line 0" not in text


def test_a_gradient_typed_in_by_hand_fails_even_with_right_values(plans):
    """x.grad = 4 * x with no backward pass: the values are right, the gradient is not autograd's: grad_assigned."""
    plan = plans["ex01"]
    got = findings(plan, "x_grad", lambda case, exp: run_with(exp, facts(backward_calls=())))
    assert all(not f.passed for f in got) and {f.problem.key for f in got} == {"hint.grad_assigned"}
    assert all(f.passed for f in findings(plan, "x_grad", lambda case, exp: run_with(exp, facts())))


def test_detached_after_the_product_and_partial_new_leaf(plans):
    """ex04: x.grad = 3x² while u IS detached names detached_wrong (detached too late); ex02 with part of the work on
    a copy of x (leaves 'mixed') names new_leaf instead of 'call backward on the second y'."""
    plan = plans["ex04"]
    late = findings(plan, "x_grad", lambda case, exp: run_with(
        exp, facts(returned=("value", "value")), grad=dataclasses.replace(exp.grad, data=3 * case.input * case.input)))
    assert {f.problem.key for f in late if not f.passed} == {"hint.detached_wrong.order"}
    plan = plans["ex02"]
    copy = facts(leaves="mixed", new_leaf_ops=("detach",), new_leaf_from_input=True)
    mixed = findings(plan, "x_grad", lambda case, exp: run_with(
        exp, copy, grad=dataclasses.replace(exp.grad, data=4 * case.input)))
    assert {f.problem.key for f in mixed if not f.passed} == {"hint.new_leaf.partial"}
    assert ".detach()" in words(mixed[0].problem)
