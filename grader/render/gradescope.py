"""Render a submission in Gradescope's results.json schema (score, max_score, output, tests with name, score, max_score, status, output, visibility)."""

from __future__ import annotations

from grader.core.config import CourseConfig
from grader.i18n import say, text
from grader.render import feedback
from grader.core.results import CheckResult, ExerciseResult, SubmissionResult


def results_json(result: SubmissionResult, config: CourseConfig, lang: str) -> dict:
    """The results.json document: total, one test per check and case group, feedback as ``output``."""
    tests = []
    for exercise in result.exercises:
        tests += [_test(exercise, check, config, lang) for check in exercise.checks]
    summary = [
        f"{e.exercise_id} · {config.exercise(e.exercise_id).title.text(lang)}: "
        + feedback.points_text(e.score, e.max_score, feedback.hidden_share(e), lang)
        for e in result.exercises
    ]
    if result.problem is not None:
        summary.insert(0, say(result.problem, lang))
    summary += [say(note, lang) for note in result.notes]
    return {
        "score": round(result.score, 2),
        "max_score": round(result.max_score, 2),
        "output": "\n".join(summary),
        "tests": tests,
    }


def _test(exercise: ExerciseResult, check: CheckResult, config: CourseConfig, lang: str) -> dict:
    """One Gradescope test; its output stands alone, as Gradescope shows each test separately."""
    if exercise.problem is not None:
        lines = feedback.exercise_problem_lines(exercise, lang)
    else:
        lines = feedback.check_lines(check, lang, verbose=True)
    # What the code printed is shown beside failing tests, but never beside a visible test of a run that
    # also saw hidden cases: a student printing its input would read the hidden inputs there.
    hidden_ran = any(not c.public for c in exercise.checks)
    if not check.passed and (not check.public or not hidden_ran):
        lines += feedback.output_lines(exercise, lang, limit=10)
    return {
        "name": check.name,
        "score": round(check.score, 2),
        "max_score": round(check.max_score, 2),
        "status": "passed" if check.passed else "failed",
        "output": "\n".join(lines) if lines else text("ui.passed", lang),
        "visibility": "visible" if check.public else config.hidden_visibility,
    }
