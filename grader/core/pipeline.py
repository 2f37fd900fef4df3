"""The grading pipeline for one submission: sources → sandboxed runs → checks → results.

``plan`` does the per-course work once (cases and expected values, in this
trusted process); ``grade_files`` then only runs and compares, so grading a
class costs one reference run per exercise, not one per student.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from grader.core import reference, sources
from grader.core.cases import Case, build_cases
from grader.core.course import Course
from grader.core.exercises import ExerciseSpec
from grader.core.results import ExerciseResult, SubmissionResult
from grader.core.scoring import grade_exercise
from grader.core.sources import SourceFile
from grader.core.submissions import SubmissionFiles
from grader.errors import RunnerError
from grader.runner.outcome import CaseRun
from grader.runner.pool import Pool, RunRequest, RunResult


@dataclass(frozen=True)
class ExercisePlan:
    """Everything needed to grade one exercise, computed once per course and run."""

    spec: ExerciseSpec
    cases: tuple[Case, ...]
    expected: tuple[CaseRun, ...]


def plan(course: Course, exercise_ids: tuple[str, ...], include_hidden: bool) -> tuple[ExercisePlan, ...]:
    """Cases and reference runs for ``exercise_ids`` (hidden cases only where solutions/ exists)."""
    plans = []
    hidden_allowed = include_hidden and reference.has_solutions(course.root)
    for exercise_id in exercise_ids:
        spec = course.config.exercise(exercise_id)
        cases = build_cases(spec, course.config.seed, include_hidden=hidden_allowed)
        plans.append(ExercisePlan(spec, cases, reference.expected_runs(course.root, spec, cases)))
    return tuple(plans)


def with_timeout(plans: tuple[ExercisePlan, ...], timeout: float) -> tuple[ExercisePlan, ...]:
    """The same plans with every exercise's time budget set to ``timeout`` (``grade --timeout``)."""
    return tuple(replace(p, spec=replace(p.spec, timeout=timeout)) for p in plans)


def grade_one(exercise_plan: ExercisePlan, source: SourceFile, pool: Pool) -> ExerciseResult:
    """Run one exercise file in a sandboxed child and score it."""
    return run_and_grade(exercise_plan, source, pool)[1]


def run_and_grade(exercise_plan: ExercisePlan, source: SourceFile,
                  pool: Pool) -> tuple[RunResult | None, ExerciseResult]:
    """Like grade_one, also returning the raw run (for plots); the run is None when nothing ran."""
    run = None
    spec = exercise_plan.spec
    if source.text is not None:
        try:
            run = pool.run(RunRequest(
                exercise_id=spec.id,
                protocol=spec.protocol,
                function=spec.function,
                source=source.text,
                filename=source.display,
                inputs=tuple(case.input for case in exercise_plan.cases),
                timeout=spec.timeout,
                memory_mb=spec.memory_mb,
            ))
        except RunnerError as error:
            # The worker (not the student's code) failed; the pool has replaced it. This exercise is
            # reported as the grader's failure and is not recorded as final (grade retries it).
            run = RunResult("sandbox_failed", detail=str(error))
    return run, grade_exercise(spec, exercise_plan.cases, exercise_plan.expected, source, run)


def grade_files(files: SubmissionFiles, plans: tuple[ExercisePlan, ...], pool: Pool) -> SubmissionResult:
    """Every planned exercise of one submission read by grader.core.submissions (safe to call from many threads)."""
    exercises = []
    scopes = dict(files.scopes)
    for exercise_plan in plans:
        spec = exercise_plan.spec
        source = sources.from_bytes(spec, files.shown_as(spec.id), files.file(spec.id), scopes.get(spec.id))
        if files.problem is not None:
            source = replace(source, text=None, problem=files.problem)
        exercises.append(grade_one(exercise_plan, source, pool))
    return SubmissionResult(files.submission.name, tuple(exercises), files.problem)
