"""The ``autograd_only`` check, judged from what the code did: the result came out of autograd over the
configured functions of the given input, and no banned function's value was computed outside autograd's own
backward, however it was reached.

Names, strings, labels and comments never count: a plot labelled 'cos' or a
variable named ``cos`` is not a cosine. The source scan
(grader.core.source_scan) only points at a line when the behaviour already
failed. When a case has no facts (the child's recorder failed), that case
falls back to the source scan, the only evidence left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.core.misconceptions import GRAD_KINDS, facts_of, made_with
from grader.core.results import CaseFinding, CheckResult, Message, message
from grader.i18n import has_message
from grader.runner.facts import RunFacts

if TYPE_CHECKING:
    from grader.core.cases import Case
    from grader.core.exercises import CheckSpec, ExerciseSpec
    from grader.core.sources import SourceFile
    from grader.runner.outcome import CaseRun


def behaviour_problem(check: "CheckSpec", facts: RunFacts, run: "CaseRun | None" = None,
                      input_name: str = "x") -> Message | None:
    """Why one case's run does not satisfy ``check`` (None when it does)."""
    if not facts.backward_calls and _difference_quotient(check, facts):
        return message("hint.finite_difference.estimate", input=input_name)
    banned = [name for name in facts.forbidden_outside_backward if name in check.banned]
    if facts.custom_backward:
        # A derivative the student wrote (custom Function, hook) runs inside backward but is not autograd's own.
        banned += [name for name, _ in facts.ops_in_backward if name in check.banned and name not in banned]
    if banned:
        key = f"hint.{banned[0]}_outside_backward"
        return message(key if has_message(key) else "hint.banned_outside_backward", op=banned[0])
    if facts.custom_backward:
        return message("hint.not_from_autograd.custom", input=input_name)
    returned = facts.returned[0] if facts.returned else "other"
    if returned not in GRAD_KINDS and not (returned == "value" and run is not None and _copy_of_grad(run)):
        return message("hint.not_from_autograd", input=input_name)
    missing = [node for node in check.through if node not in facts.backward_nodes]
    if missing:
        return message("hint.not_from_autograd.through", nodes=", ".join(check.through), input=input_name)
    if facts.leaves not in ("input", "new") or (facts.leaves == "new" and not facts.new_leaf_from_input):
        return message("hint.own_grid", ops=made_with(facts.new_leaf_ops), input=input_name)
    return None


def autograd_only(spec: "ExerciseSpec", check: "CheckSpec", cases: tuple["Case", ...], runs: tuple["CaseRun", ...],
                  source: "SourceFile", answers_right: bool, share: float,
                  expected: tuple["CaseRun", ...] = ()) -> CheckResult:
    """The check over every case of the run (one share: it is not split into public and hidden)."""
    findings = []
    hits = [hit for hit in source.banned_hits if hit.op in check.banned]
    for index, (case, run) in enumerate(zip(cases, runs)):
        facts = facts_of(run)
        reference = expected[index] if index < len(expected) else None
        if run.error is not None:
            problem = None  # the value checks already say what the error was; this check is gated below
        elif facts is None:
            problem = _text_problem(hits)
        else:
            problem = behaviour_problem(check, facts, run, spec.input_name)
            if problem is not None and hits:
                problem = _line_problem(hits[0], hits)  # the behaviour failed and the text shows why: cite the line
        if problem is None and run.error is None and not _follows_the_swap(run, reference):
            # Nothing the recorder saw names the route, yet the result ignored autograd's derivative.
            problem = message("hint.not_from_autograd.swap", input=spec.input_name)
        if problem is not None:
            findings.append(CaseFinding(case.name, case.show, case.public, False, problem))
    if not findings and not answers_right:
        findings.append(CaseFinding("source", source.display, True, False, message("source_check_gated")))
    passed = not findings
    if passed:
        findings.append(CaseFinding("source", source.display, True, True))
    return CheckResult(spec.id, check.id, check.label, True, passed, share if passed else 0.0, share,
                       tuple(findings))


def broke_the_rule(result: CheckResult) -> bool:
    """An autograd_only check that failed on what the code did (not merely gated on wrong values or errors)."""
    return not result.passed and any(f.problem is not None and f.problem.key != "source_check_gated"
                                     for f in result.findings)


def _follows_the_swap(run: "CaseRun", reference: "CaseRun | None") -> bool:
    """Whether the result changed as the reference's did when autograd's derivative of the ``through`` nodes was
    scaled (grader.runner.swap). Compared here, in the trusted process: a submission that tampers with the
    child's recorder cannot fake it without knowing the factor. True when there was no swap run to compare."""
    from grader.core.compare import is_close
    from grader.runner.outcome import TensorValue

    want = reference.swapped if reference is not None else None
    if want is None:
        return True
    got = run.swapped
    if got is None:
        return False  # the swap run's result is missing from a child that was asked for one
    for expected, actual in ((want.returned, got.returned), (want.grad, got.grad)):
        if isinstance(expected, TensorValue) and expected.data is not None:
            # The first tensor the reference gives is the result (its returned value, else the input's .grad).
            return (isinstance(actual, TensorValue) and actual.data is not None
                    and actual.data.shape == expected.data.shape
                    and is_close(actual.data.to(expected.data.dtype), expected.data))
    return True


def _difference_quotient(check: "CheckSpec", facts: RunFacts) -> bool:
    """No backward ran, yet the function the graph had to go through ran twice or more, with a subtraction and a
    division: (f(x + h) - f(x)) / h."""
    ops = dict(facts.ops_outside_backward)
    forward = [node.removesuffix("0").removesuffix("Backward").lower() for node in check.through]
    return bool(forward) and all(ops.get(op, 0) >= 2 for op in forward) and ops.get("sub", 0) >= 1 and (
        ops.get("div", 0) + ops.get("mul", 0) >= 1)


def _copy_of_grad(run: "CaseRun") -> bool:
    """The returned tensor holds exactly what autograd left in the input's .grad (``x.grad.detach().clone()``)."""
    from grader.runner.outcome import TensorValue

    got, grad = run.returned, run.grad
    return (isinstance(got, TensorValue) and isinstance(grad, TensorValue) and got.data is not None
            and grad.data is not None and got.data.shape == grad.data.shape and got.data.dtype == grad.data.dtype
            and bool((got.data == grad.data).all()))


def _line_problem(first, hits) -> Message:
    key = f"hint.{first.op}_outside_backward.line"
    return message(key if has_message(key) else "hint.banned_outside_backward.line", op=first.op, line=first.line,
                   code=first.text, lines=", ".join(str(h.line) for h in hits))


def _text_problem(hits) -> Message | None:
    if not hits:
        return None
    first = hits[0]
    key = f"banned.{first.op}" if has_message(f"banned.{first.op}") else "banned"
    return message(key, op=first.op, line=first.line, code=first.text, lines=", ".join(str(h.line) for h in hits))
