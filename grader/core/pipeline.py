"""The grading pipeline for one submission: sources → sandboxed runs → checks → results.

``plan`` does the per-course work once (cases and expected values, in this
trusted process); ``grade`` then only runs and compares, so grading a class
costs one reference run per exercise, not one per student.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from grader.core import reference, sources
from grader.core.cases import Case, build_cases
from grader.errors import RunnerError
from grader.core.config import ExerciseConfig
from grader.core.course import Course, definition_and_config
from grader.core.scoring import grade_exercise
from grader.runner.outcome import CaseRun
from grader.runner.pool import Pool, RunRequest, RunResult
from grader.core.exercises import ExerciseDef
from grader.core.results import ExerciseResult, SubmissionResult
from grader.core.sources import SourceFile
from grader.core.submissions import SubmissionFiles


@dataclass(frozen=True)
class ExercisePlan:
    """Everything needed to grade one exercise, computed once per course and run."""

    definition: ExerciseDef
    config: ExerciseConfig
    cases: tuple[Case, ...]
    expected: tuple[CaseRun, ...]


def plan(course: Course, exercise_ids: tuple[str, ...], include_hidden: bool) -> tuple[ExercisePlan, ...]:
    """Cases and reference runs for ``exercise_ids`` (hidden cases only where solutions/ exists)."""
    plans = []
    hidden_allowed = include_hidden and reference.has_solutions(course.root)
    for exercise_id in exercise_ids:
        definition, config = definition_and_config(course, exercise_id)
        hidden = config.hidden if hidden_allowed else ()
        cases = build_cases(exercise_id, config.public, hidden, definition.cases, course.config.seed)
        plans.append(ExercisePlan(definition, config, cases, reference.expected_runs(course.root, definition, cases)))
    return tuple(plans)


def grade_one(exercise_plan: ExercisePlan, source: SourceFile, pool: Pool) -> ExerciseResult:
    """Run one exercise file in a sandboxed child and score it."""
    return run_and_grade(exercise_plan, source, pool)[1]


def run_and_grade(exercise_plan: ExercisePlan, source: SourceFile,
                  pool: Pool) -> tuple[RunResult | None, ExerciseResult]:
    """Like grade_one, also returning the raw run (for plots); the run is None when nothing ran."""
    run = None
    if source.text is not None:
        definition, config = exercise_plan.definition, exercise_plan.config
        try:
            run = pool.run(RunRequest(
                exercise_id=definition.id,
                protocol=definition.protocol,
                function=definition.function,
                source=source.text,
                filename=source.display,
                inputs=tuple(case.input for case in exercise_plan.cases),
                timeout=config.timeout,
                memory_mb=config.memory_mb,
            ))
        except RunnerError as error:
            # The worker (not the student's code) failed; the pool has replaced it. This exercise is
            # reported as the grader's failure and is not recorded as final (grade retries it).
            run = RunResult("sandbox_failed", detail=str(error))
    return run, grade_exercise(exercise_plan.definition, exercise_plan.config, exercise_plan.cases,
                               exercise_plan.expected, source, run)


def grade_files(files: SubmissionFiles, plans: tuple[ExercisePlan, ...], pool: Pool) -> SubmissionResult:
    """Every planned exercise of one submission read by grader.core.submissions (safe to call from many threads)."""
    exercises = []
    scopes = dict(files.cosine_scope)
    for exercise_plan in plans:
        exercise_id = exercise_plan.definition.id
        source = sources.from_bytes(exercise_id, files.shown_as(exercise_id), files.file(exercise_id),
                                    scopes.get(exercise_id))
        if files.problem is not None:
            source = replace(source, text=None, problem=files.problem)
        exercises.append(grade_one(exercise_plan, source, pool))
    return SubmissionResult(files.submission.name, tuple(exercises), files.problem)
