"""``grader check``: the public checks on a student's own files, and the ex06 plot."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.core import pipeline, sources
from grader.core.course import Course
from grader.core.pipeline import ExercisePlan
from grader.runner.pool import Pool, RunResult
from grader.core.results import SubmissionResult


@dataclass(frozen=True)
class CheckRun:
    """A check's results, with the plans and raw runs a plot needs."""

    result: SubmissionResult
    plans: tuple[ExercisePlan, ...]
    runs: tuple[RunResult | None, ...]


def check(course: Course, exercise_ids: tuple[str, ...], paths: dict[str, Path], pool: Pool) -> CheckRun:
    """Run the public cases of ``exercise_ids`` on the files at ``paths``."""
    plans = pipeline.plan(course, exercise_ids, include_hidden=False)
    runs, results = [], []
    for exercise_plan in plans:
        exercise_id = exercise_plan.definition.id
        source = sources.read(exercise_id, paths[exercise_id], display_path(paths[exercise_id]))
        run, result = pipeline.run_and_grade(exercise_plan, source, pool)
        runs.append(run)
        results.append(result)
    return CheckRun(SubmissionResult("check", tuple(results)), plans, tuple(runs))


def display_path(path: Path) -> str:
    """The path as the student would type it: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def check_for_notebook(exercises: tuple[str, ...], *, lang: str | None, course: Path | None, verbose: bool):
    """``grader.check(...)`` in Jupyter: the same checks as the command line, rendered for a notebook."""
    from grader.core.course import find_course, select_exercises
    from grader.errors import GraderError
    from grader.i18n import error_sentence, resolve_language
    from grader.render.notebook import NotebookReport
    from grader.render.terminal import render_submission

    try:
        found = find_course(course)
        chosen = select_exercises(list(exercises))
        paths = {exercise_id: found.exercise_file(exercise_id) for exercise_id in chosen}
        with Pool(jobs=1) as pool:
            result = check(found, chosen, paths, pool).result
    except GraderError as error:  # a sentence in the notebook, as on the command line, not a traceback
        return NotebookReport(text=f"grader: {error_sentence(error, lang, course)}", passed=False)
    language = resolve_language(lang, found.config.language)
    text = render_submission(result, found.config, language, verbose=verbose, color=False)
    return NotebookReport(text=text, passed=result.passed)
