"""The grading pipeline for one submission: sources → sandboxed runs → checks → results.

``plan`` does the per-course work once (cases and expected values, in this
trusted process); ``grade_files`` then only runs and compares, so grading a
class costs one reference run per exercise, not one per student.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Sequence

from grader.core import reference, scoring, sources
from grader.core.cases import Case, build_cases, case_seed
from grader.core.course import Course
from grader.core.exercises import ExerciseSpec
from grader.core.results import STATUS_NOT_ATTEMPTED, ExerciseResult, SubmissionResult
from grader.core.scoring import grade_exercise
from grader.core.sources import SourceFile
from grader.core.submissions import SubmissionFiles
from grader.runner.outcome import CaseRun
from grader.runner.pool import Pool, RunRequest, RunResult


@dataclass(frozen=True)
class ExercisePlan:
    """Everything needed to grade one exercise, computed once per course and run."""

    spec: ExerciseSpec
    cases: tuple[Case, ...]
    expected: tuple[CaseRun, ...]
    stub: str | None = None
    """The course's own stub for this exercise (exercises/<file>), None when it cannot be read."""
    swap_seed: int = 0
    """The swap run's seed (grader.runner.swap), from the course's secret seed; 0: no swap run (no nodes to swap,
    or no solutions/ to compute what the swap must give)."""


def plan(course: Course, exercise_ids: tuple[str, ...], include_hidden: bool) -> tuple[ExercisePlan, ...]:
    """Cases and reference runs for ``exercise_ids`` (hidden cases only where solutions/ exists)."""
    plans = []
    hidden_allowed = include_hidden and reference.has_solutions(course.root)
    for exercise_id in exercise_ids:
        spec = course.config.exercise(exercise_id)
        cases = build_cases(spec, course.config.seed, include_hidden=hidden_allowed)
        swap_seed = (case_seed(course.config.seed, exercise_id, "swap run") or 1) \
            if spec.through and reference.has_solutions(course.root) else 0
        plans.append(ExercisePlan(spec, cases, reference.expected_runs(course.root, spec, cases, swap_seed),
                                  _stub(course.exercise_file(exercise_id)), swap_seed))
    return tuple(plans)


def with_timeout(plans: tuple[ExercisePlan, ...], timeout: float) -> tuple[ExercisePlan, ...]:
    """The same plans with every exercise's time budget set to ``timeout`` (``grade --timeout``)."""
    return tuple(replace(p, spec=replace(p.spec, timeout=timeout)) for p in plans)


Isolation = Literal["submission", "exercise"]
"""submission: a submission's exercises run one after another in one child, and every exercise short of full
marks runs again alone, whose verdict stands; exercise: every exercise in a child of its own."""


def grade_one(exercise_plan: ExercisePlan, source: SourceFile, pool: Pool) -> ExerciseResult:
    """Run one exercise file alone in a sandboxed child and score it."""
    return run_and_grade((exercise_plan,), (source,), pool, "exercise")[0][1]


def run_and_grade(plans: Sequence[ExercisePlan], sources_: Sequence[SourceFile], pool: Pool,
                  isolate: Isolation = "submission") -> list[tuple[RunResult | None, ExerciseResult]]:
    """Run and score one submission's exercises; each pair's run is None when nothing ran (for plots).

    In ``submission`` mode the exercises share one child; any exercise that does not get full marks
    there is run again alone in a fresh child and that second verdict stands, so no exercise's grade
    depends on what another exercise of the same submission did to the process. (An exercise that ran
    first in its child — the first of the submission, or the first after a crash — already ran alone.)
    """
    runnable = [i for i, source in enumerate(sources_) if source.text is not None]
    runs: dict[int, RunResult] = {}
    light: set[int] = set()
    if isolate == "submission" and len(runnable) > 1:
        # Light runs (no dispatch mode: most of the recorder's cost) where no banned function must be watched for;
        # whatever falls short of full marks runs again alone, in full, and is worded from that run's facts.
        light = {i for i in runnable if not plans[i].spec.banned}
        shared = pool.run_session([_request(plans[i], sources_[i], record_ops=i not in light) for i in runnable])
        runs.update(zip(runnable, shared))
    graded: list[tuple[RunResult | None, ExerciseResult]] = []
    for index, (exercise_plan, source) in enumerate(zip(plans, sources_)):
        run = runs.get(index)
        result = _score(exercise_plan, source, run) if run is not None else None
        if source.text is not None and (result is None or (result.score < result.max_score and _needs_rerun(
                exercise_plan, source, run, result, index in light))):
            run = pool.run(_request(exercise_plan, source))
            result = _score(exercise_plan, source, run)
        if run is not None and run.status == "timeout":
            result = _score(exercise_plan, source, run, _hung_case(exercise_plan, source, pool))
        graded.append((run, result if result is not None else _score(exercise_plan, source, None)))
    return graded


PROBE_SECONDS = 1.0
"""Budget of each public case run alone to find the one a hung run was stuck on (a case takes milliseconds)."""


def _hung_case(exercise_plan: ExercisePlan, source: SourceFile, pool: Pool) -> Case | None:
    """The first public case that, run alone, does not finish in PROBE_SECONDS: named in the feedback (a hidden
    case never is, so that no hidden input reaches a student). None when every public case finishes."""
    budget = min(exercise_plan.spec.timeout, PROBE_SECONDS)
    for case in exercise_plan.cases:
        if case.public and pool.run(replace(_request(exercise_plan, source), inputs=(case.input,),
                                            timeout=budget)).status == "timeout":
            return case
    return None


def _needs_rerun(exercise_plan: ExercisePlan, source: SourceFile, run: RunResult, result: ExerciseResult,
                 light: bool = False) -> bool:
    """Whether a shared run's verdict could have been different alone, or its wording better with full facts
    (always, for the grader's own failure).

    Not when the exercise ran first in its child in full (nothing of another exercise ran there before it),
    nor when the file is the course's stub, byte for byte, and was reported not attempted: an untouched
    ``raise NotImplementedError`` has that verdict in any process.
    """
    if run.status == "sandbox_failed":
        return True  # the grader's own failure: worth a second try in a fresh child, whatever ran first
    untouched = exercise_plan.stub is not None and source.text == exercise_plan.stub
    if untouched and result.status == STATUS_NOT_ATTEMPTED:
        return False
    return light or not run.first


def _stub(path: Path) -> str | None:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text[1:] if text.startswith("\ufeff") else text


def _request(exercise_plan: ExercisePlan, source: SourceFile, record_ops: bool = True) -> RunRequest:
    spec = exercise_plan.spec
    return RunRequest(
        exercise_id=spec.id,
        protocol=spec.protocol,
        function=spec.function,
        source=source.text or "",
        filename=source.display,
        inputs=tuple(case.input for case in exercise_plan.cases),
        timeout=spec.timeout,
        memory_mb=spec.memory_mb,
        banned=spec.banned,
        swap=spec.through if exercise_plan.swap_seed else (),
        swap_seed=exercise_plan.swap_seed,
        record_ops=record_ops,
    )


def _score(exercise_plan: ExercisePlan, source: SourceFile, run: RunResult | None,
           hung: Case | None = None) -> ExerciseResult:
    return grade_exercise(exercise_plan.spec, exercise_plan.cases, exercise_plan.expected, source, run, hung)


def parse_sources(files: SubmissionFiles, plans: tuple[ExercisePlan, ...]) -> tuple[SourceFile, ...]:
    """Every planned exercise's source, decoded and parsed. Call it from one thread only: CPython 3.11's
    parser can fail with "AST constructor recursion depth mismatch" when two threads parse at once."""
    scopes = dict(files.scopes)
    parsed = []
    for exercise_plan in plans:
        spec = exercise_plan.spec
        source = sources.from_bytes(spec, files.shown_as(spec.id), files.file(spec.id), scopes.get(spec.id))
        if files.problem is not None:
            source = replace(source, text=None, problem=files.problem)
        parsed.append(source)
    return tuple(parsed)


def grade_files(files: SubmissionFiles, plans: tuple[ExercisePlan, ...], pool: Pool,
                isolate: Isolation = "submission", parsed: tuple[SourceFile, ...] | None = None) -> SubmissionResult:
    """Every planned exercise of one submission read by grader.core.submissions. Safe to call from many threads
    when ``parsed`` (:func:`parse_sources`, done in one thread) is given."""
    sources_ = list(parsed if parsed is not None else parse_sources(files, plans))
    try:
        exercises = tuple(result for _, result in run_and_grade(plans, sources_, pool, isolate))
    except Exception as error:  # noqa: BLE001 - one submission's failure must not stop a class's grading
        detail = f"{type(error).__name__}: {error}"[:200]
        exercises = tuple(scoring.grader_error(p.spec, p.cases, s, detail) for p, s in zip(plans, sources_))
    return SubmissionResult(files.submission.name, exercises, files.problem, files.notes)
