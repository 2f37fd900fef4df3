"""Render ``grader list``: one line per exercise with its title, points and this copy's status."""

from __future__ import annotations

from grader.core.config import CourseConfig
from grader.i18n import text
from grader.core.results import SubmissionResult


def render_listing(result: SubmissionResult, config: CourseConfig, lang: str) -> str:
    lines = []
    for exercise in result.exercises:
        settings = config.exercise(exercise.exercise_id)
        lines.append(text("ui.list_header", lang, id=exercise.exercise_id, title=settings.title.text(lang),
                          points=settings.points, status=text(f"ui.status.{exercise.status}", lang)))
    return "\n".join(lines) + "\n"
