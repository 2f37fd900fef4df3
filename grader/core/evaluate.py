"""Evaluate one check on one case: the student's harvest against the reference's."""

from __future__ import annotations

from grader.core import diagnose
from grader.core.cases import Case
from grader.core.compare import compare
from grader.core.config import Tolerance
from grader.runner.outcome import CaseRun, SequenceValue, TensorValue, Value
from grader.core.exercises import Check, ExerciseDef
from grader.core.results import CaseFinding, Message, message


def target(run: CaseRun, path: str) -> Value | Message:
    """The value a check reads ('returned', 'returned.1', 'grad'), or why it cannot be read."""
    if path == "grad":
        return run.grad
    if path == "returned":
        return run.returned
    index = int(path.split(".")[1])
    returned = run.returned
    if not isinstance(returned, SequenceValue) or returned.length != 2 or len(returned.items) <= index:
        return message("returned_not_pair", type=_kind_name(returned))
    return returned.items[index]


def evaluate(check: Check, definition: ExerciseDef, case: Case, run: CaseRun, expected: CaseRun,
             tolerance: Tolerance) -> CaseFinding:
    """Does ``check`` hold on ``case``? Failing findings carry the best explanation found."""

    def finding(problem: Message | None = None, mismatch=None) -> CaseFinding:
        return CaseFinding(case.name, case.definition.describe, case.public, problem is None, problem, mismatch)

    if run.error is not None:
        return finding(diagnose.error_problem(run.error))
    got = target(run, check.target)
    if isinstance(got, Message):
        return finding(got)
    problem = diagnose.value_problem(check.noun, got)
    if problem is not None:
        return finding(problem)
    assert isinstance(got, TensorValue) and got.data is not None

    if check.kind == "graph":
        return finding() if got.grad_fn else finding(diagnose.graph_problem(definition.id, check.noun))
    if check.kind == "detached":
        if got.requires_grad or got.grad_fn:
            return finding(message("ex04.u_requires_grad", noun=check.noun, grad_fn=got.grad_fn or "-"))
        return finding()

    reference = target(expected, check.target)
    if not isinstance(reference, TensorValue) or reference.data is None:
        raise ValueError(f"the reference for {definition.id} {check.id} is not a tensor")
    mismatch = compare(got.data, reference.data, tolerance.rtol, tolerance.atol)
    if mismatch is None:
        return finding()
    known = diagnose.mistake(definition.id, check.id, got.data, reference.data, case.input)
    return finding(known or message("mismatch", noun=check.noun), mismatch)


def _kind_name(value: Value) -> str:
    return getattr(value, "type_name", "None")
