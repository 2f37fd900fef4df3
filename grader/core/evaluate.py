"""Evaluate one check on one case: the student's harvest against the reference's."""

from __future__ import annotations

from grader.core import diagnose, hints, misconceptions
from grader.core.cases import Case
from grader.core.compare import compare
from grader.core.exercises import CheckSpec, ExerciseSpec
from grader.core.results import CaseFinding, Message, message
from grader.runner.outcome import CaseRun, SequenceValue, TensorValue, Value


def target(run: CaseRun, path: str, spec: ExerciseSpec | None = None, length: int = 0) -> Value | Message:
    """The value a check reads ('returned', 'returned.1', 'grad'), or why it cannot be read.

    For 'returned.N', ``length`` is how many items the reference returns (0: any number will do).
    """
    if path == "grad":
        return run.grad
    if path == "returned":
        return run.returned
    index = int(path.split(".")[1])
    returned = run.returned
    if not isinstance(returned, SequenceValue) or len(returned.items) <= index or (
            length and returned.length != length):
        names = _tuple_names(spec) if spec is not None else ""
        key = "returned_not_pair" if length == 2 else "returned_not_tuple"
        return message(key, type=_kind_name(returned), names=names or "(...)", length=length)
    return returned.items[index]


def _tuple_names(spec: ExerciseSpec) -> str:
    """'(u, z)': the nouns of the checks on returned.0, returned.1, ..., as the student should return them."""
    nouns = {int(c.target.split(".")[1]): c.noun for c in spec.checks if c.target.startswith("returned.")}
    return "(" + ", ".join(nouns.get(i, "…") for i in range(max(nouns) + 1)) + ")" if nouns else ""


def evaluate(check: CheckSpec, spec: ExerciseSpec, case: Case, run: CaseRun, expected: CaseRun) -> CaseFinding:
    """Does ``check`` hold on ``case``? Failing findings carry the best explanation found."""
    found = _evaluate(check, spec, case, run, expected)
    if found.passed or found.problem is None:
        return found
    # What the code did names the mistake better than the symptom; the verdict stays the same.
    better = misconceptions.explain(spec, check, case, run, expected, found.problem)
    return found if better is None else CaseFinding(found.case, found.describe, found.public, False, better,
                                                    found.mismatch)


def _evaluate(check: CheckSpec, spec: ExerciseSpec, case: Case, run: CaseRun, expected: CaseRun) -> CaseFinding:

    def finding(problem: Message | None = None, mismatch=None) -> CaseFinding:
        return CaseFinding(case.name, case.show, case.public, problem is None, problem, mismatch)

    if run.error is not None:
        return finding(diagnose.error_problem(run.error))
    reference_returned = expected.returned
    length = reference_returned.length if isinstance(reference_returned, SequenceValue) else 0
    got = target(run, check.target, spec, length)
    if isinstance(got, Message):
        return finding(got)
    problem = diagnose.value_problem(check.noun, got)
    if problem is not None:
        return finding(problem)
    assert isinstance(got, TensorValue) and got.data is not None

    if check.kind == "graph":
        return finding() if got.grad_fn else finding(diagnose.graph_problem(spec.protocol, check.noun))
    if check.kind == "detached":
        if got.grad_fn:
            return finding(message("not_detached", noun=check.noun, grad_fn=got.grad_fn))
        if got.requires_grad:
            # Detached, then made to require grad again (``y.detach().requires_grad_()``): a leaf of its own.
            return finding(message("not_detached.requires_grad", noun=check.noun))
        return finding()

    if check.target == "grad" and misconceptions.grad_without_backward(spec, run):
        # A gradient no backward pass produced was typed in: right values, but not autograd's.
        return finding(message("hint.grad_assigned", input=spec.input_name))
    reference = target(expected, check.target)
    if not isinstance(reference, TensorValue) or reference.data is None:
        raise ValueError(f"the reference for {spec.id} {check.id} is not a tensor")
    mismatch = compare(got.data, reference.data, spec.tolerance.rtol, spec.tolerance.atol)
    if mismatch is None:
        return finding()
    expected_grad = expected.grad.data if isinstance(expected.grad, TensorValue) else None
    known = (misconceptions.value_model(spec, check, run, got.data, reference.data, case.input, expected_grad)
             or misconceptions.shape_problem(spec, check, case, mismatch)
             or hints.recognise(spec.hints, check.target, got.data, reference.data, case.input))
    # A forward value is not something autograd gives: only a gradient is worded that way.
    generic = message("mismatch.grad" if check.target == "grad" else "mismatch.value", noun=check.noun)
    return finding(known or generic, mismatch)


def _kind_name(value: Value) -> str:
    return getattr(value, "type_name", "None")
