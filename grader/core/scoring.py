"""Turn one exercise's run into scored checks: run → findings per case → check results → exercise result.

Scoring: an exercise's points are split equally across its checks; a check's
share is split between its public and hidden cases by ``hidden_weight``
(all of it on the public cases when no hidden case is graded). A check
earns its share for a group of cases only when it holds on every case of
that group, so a hard-coded public answer keeps its public share and loses
the hidden one.

Every share is a whole number of hundredths of a point, apportioned once by
``point_grid`` (largest remainder), so the parts add up to the exercise's
points exactly and every report of the same outcome shows the same number.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from grader.core import behaviour, diagnose, evaluate, hints
from grader.core.cases import Case
from grader.core.exercises import ExerciseSpec
from grader.core.results import (
    STATUS_ERROR,
    STATUS_FAILED,
    STATUS_NOT_ATTEMPTED,
    STATUS_NOT_SUBMITTED,
    STATUS_PASSED,
    CaseFinding,
    CheckResult,
    ExerciseResult,
    Message,
    Status,
    message,
    test_name,
)
from grader.core.sources import SourceFile
from grader.runner.outcome import CaseRun
from grader.runner.pool import RunResult


def grade_exercise(spec: ExerciseSpec, cases: tuple[Case, ...], expected: tuple[CaseRun, ...],
                   source: SourceFile, run: RunResult | None, hung: Case | None = None) -> ExerciseResult:
    """Score one exercise of one submission. ``run`` is None when the source could not be used; ``hung`` is the
    public case a run that timed out was found stuck on, when one was."""
    groups = _groups(cases)
    if source.problem is not None or run is None:
        problem = source.problem or message("not_submitted", file=source.display)
        status = STATUS_NOT_SUBMITTED if problem.key == "not_submitted" else STATUS_ERROR
        return _failed_whole(spec, groups, problem, status, source)
    if run.status != "ok":
        return _failed_whole(spec, groups, run_problem(spec, source, run, hung), STATUS_ERROR, source, run)

    shares = point_grid(spec, hidden=len(groups) == 2)
    results = []
    for check in spec.checks:
        if check.kind == "autograd_only":
            continue
        for public, indices in groups:
            findings = tuple(evaluate.evaluate(check, spec, cases[i], run.cases[i], expected[i]) for i in indices)
            passed = all(f.passed for f in findings)
            share = shares[(check.id, public)]
            results.append(CheckResult(spec.id, check.id, check.label, public, passed,
                                       share if passed else 0.0, share, findings))
    # A source-only check earns nothing on its own: an empty stub reaches no banned operation either.
    answers_right = bool(results) and all(r.passed for r in results)
    autograd = [behaviour.autograd_only(spec, check, cases, run.cases, source, answers_right,
                                        shares[(check.id, True)], expected)
                for check in spec.checks if check.kind == "autograd_only"]
    if any(behaviour.broke_the_rule(r) for r in autograd):
        # Right values obtained the forbidden way earn nothing: the exercise is to get them from autograd.
        results = [_withheld(r) if r.passed else r for r in results]
    results += autograd
    order = [c.id for c in spec.checks]
    results.sort(key=lambda r: order.index(r.check_id))

    problems = [f.problem for r in results for f in r.findings if f.problem is not None]
    not_attempted = all(run_case.error is not None and run_case.error.type_name == "NotImplementedError"
                        for run_case in run.cases)
    score = 0.0 if not_attempted else total(r.score for r in results)
    status: Status
    if not_attempted:
        status, exercise_problem = STATUS_NOT_ATTEMPTED, problems[0]
    else:
        status = STATUS_PASSED if all(r.passed for r in results) else STATUS_FAILED
        exercise_problem = None
    return ExerciseResult(
        exercise_id=spec.id,
        status=status,
        score=score,
        max_score=spec.points,
        checks=tuple(results),
        problem=exercise_problem,
        misconceptions=_unique(p.key for p in problems),
        output=run.output,
        output_dropped=run.output_dropped,
        wall=run.wall,
        max_rss_kb=run.max_rss_kb,
        source_file=source.display,
    )


def run_problem(spec: ExerciseSpec, source: SourceFile, run: RunResult, hung: Case | None = None) -> Message:
    """The feedback for a run that did not get to the end."""
    if run.status == "load_error" and run.error is not None:
        return diagnose.load_problem(run.error, source.display)
    if run.status == "missing_function":
        return message("missing_function", file=source.display, function=spec.function,
                       defined=", ".join(run.defined) or "-")
    if run.status == "timeout":
        return hints.timeout_message(spec.hints, run.wall, source.loops, hung.show if hung is not None else "")
    if run.status == "crashed":
        return message("crashed", signal=run.detail)
    if run.status == "out_of_memory":
        return message("memory_exceeded", limit=spec.memory_mb)
    if run.status == "no_result":
        return message("no_result", code=run.exit_code if run.exit_code is not None else "-")
    if run.status == "sandbox_failed":
        return message("sandbox_failed")
    return message("invalid_result", detail=run.detail)


def _groups(cases: tuple[Case, ...]) -> list[tuple[bool, tuple[int, ...]]]:
    public = tuple(i for i, c in enumerate(cases) if c.public)
    hidden = tuple(i for i, c in enumerate(cases) if not c.public)
    return [(flag, indices) for flag, indices in ((True, public), (False, hidden)) if indices]


GRID = 100
"""Scores are whole numbers of 1/GRID points: hundredths."""


def point_grid(spec: ExerciseSpec, hidden: bool) -> dict[tuple[str, bool], float]:
    """Points per (check id, public?) test, each a multiple of 1/GRID, adding up to exactly the exercise's
    points: the one apportionment every report uses.

    ``hidden``: whether a share of each check rides on hidden cases (``hidden_weight``). First the points
    go to the checks by largest remainder (ties to the earlier check), then each check's share to its
    public and hidden halves by ``hidden_weight``, rounded to the nearer hundredth; an exact half goes
    to the public and the hidden side in turn. 2 points over 3 checks, each halved, are
    0.34 + 0.33, 0.33 + 0.34 and 0.33 + 0.33: 1 point on the public cases, 1 on the hidden ones.
    """
    return {key: units / GRID for key, units in _grid_units(spec, hidden).items()}


def _grid_units(spec: ExerciseSpec, hidden: bool) -> dict[tuple[str, bool], int]:
    cents = round(Fraction(Decimal(repr(spec.points))) * GRID)
    weight = Fraction(Decimal(repr(spec.hidden_weight)))
    units: dict[tuple[str, bool], int] = {}
    public_first = True
    for check, share in zip(spec.checks, _largest_remainder(cents, len(spec.checks))):
        if check.kind == "autograd_only" or not hidden:
            units[(check.id, True)] = share
            continue
        exact = share * (1 - weight)
        floor = int(exact)  # exact: the value is a non-negative Fraction
        half = exact - floor == Fraction(1, 2)
        public = floor + (1 if exact - floor > Fraction(1, 2) or (half and public_first) else 0)
        public_first = public_first != half  # exact halves alternate, so the public and hidden totals balance
        units[(check.id, True)] = public
        units[(check.id, False)] = share - public
    return units


def _largest_remainder(total: int, parts: int) -> list[int]:
    """``total`` units over ``parts`` equal parts: the floor each, one more for the first ones left over."""
    if parts == 0:
        return []
    floor, left = divmod(total, parts)
    return [floor + (1 if index < left else 0) for index in range(parts)]


def total(points) -> float:
    """A sum of grid shares, as the multiple of 1/GRID it is (float addition alone drifts: 0.1 + 0.2)."""
    return round(sum(round(p * GRID) for p in points)) / GRID


def hidden_pending(spec: ExerciseSpec, hidden_in_course: bool) -> bool:
    """Whether grading gives part of this exercise's points to hidden cases that ``check`` does not run."""
    return hidden_in_course and spec.hidden_weight > 0 and any(c.kind != "autograd_only" for c in spec.checks)


def public_preview(result: ExerciseResult, spec: ExerciseSpec) -> ExerciseResult:
    """A public-cases-only result laid on grading's grid: each public test keeps the share it has when the
    instructor grades, and the hidden shares are left out (``result.max_score`` minus the tests' own
    ``max_score`` is what hidden cases decide)."""
    grid = point_grid(spec, hidden=True)
    checks = tuple(replace(c, max_score=grid[(c.check_id, True)],
                           score=grid[(c.check_id, True)] if c.passed else 0.0)
                   for c in result.checks if c.public)
    earned = 0.0 if result.status == STATUS_NOT_ATTEMPTED else total(c.score for c in checks)
    return replace(result, checks=checks, score=earned)


def _withheld(result: CheckResult) -> CheckResult:
    finding = CaseFinding("rule", "", result.public, False, message("withheld_not_from_autograd"))
    return replace(result, passed=False, score=0.0, findings=(*result.findings, finding))


def grader_error(spec: ExerciseSpec, cases: tuple[Case, ...], source: SourceFile, detail: str) -> ExerciseResult:
    """The result of an exercise the grader itself failed on (a bug or a fault of this process, not the
    student's): no points for now, marked so that the next run grades it again."""
    result = _failed_whole(spec, _groups(cases), message("grader_error", detail=detail), STATUS_ERROR, source)
    return replace(result, grader_failed=True)


def _failed_whole(spec: ExerciseSpec, groups: list, problem: Message, status: Status, source: SourceFile,
                  run: RunResult | None = None) -> ExerciseResult:
    shares = point_grid(spec, hidden=len(groups) == 2)
    labels = {check.id: check.label for check in spec.checks}
    results = [
        CheckResult(spec.id, check_id, labels[check_id], public, False, 0.0, share, ())
        for (check_id, public), share in shares.items()
    ]
    return ExerciseResult(
        exercise_id=spec.id,
        status=status,
        score=0.0,
        max_score=spec.points,
        checks=tuple(results),
        problem=problem,
        misconceptions=(problem.key,),
        output=run.output if run else "",
        output_dropped=run.output_dropped if run else 0,
        wall=run.wall if run else 0.0,
        max_rss_kb=run.max_rss_kb if run else 0,
        source_file=source.display,
        grader_failed=run is not None and run.status == "sandbox_failed",
    )


def _unique(keys) -> tuple[str, ...]:
    return tuple(dict.fromkeys(keys))


def layout(spec: ExerciseSpec, with_hidden: bool) -> tuple[tuple[str, bool, float], ...]:
    """(test name, public?, points) of every check and case group grading will report, before any run.

    The same names and shares as grade_exercise's CheckResults: exporters (otter) declare them up front.
    """
    shares = point_grid(spec, hidden=with_hidden and bool(spec.hidden))
    labels = {check.id: check.label for check in spec.checks}
    return tuple((test_name(spec.id, labels[check_id].en, public), public, share)
                 for (check_id, public), share in shares.items())
