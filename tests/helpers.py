"""Plain helpers the test modules share: where this repository's course and fixtures live, and feedback as a student reads it.

Test modules import these (``from helpers import REPO``); pytest fixtures live in conftest.py. pytest's default
``prepend`` import mode puts tests/ on sys.path before it imports conftest.py, which is what makes
``import helpers`` work from any test module.
"""

from __future__ import annotations

from pathlib import Path

from grader.core.results import ExerciseResult
from grader.i18n import say

REPO = Path(__file__).resolve().parent.parent
"""The repository root: the course (config.yaml, exercises/, solutions/) and the grader's source checkout."""
FIXTURES = REPO / "tests" / "fixtures"
SUBMISSIONS = FIXTURES / "submissions"
"""One folder per scenario, each holding exercise files as a student would hand them in."""


def feedback_text(result: ExerciseResult, lang: str) -> str:
    """Every problem in a result, worded in ``lang`` (what a student would read)."""
    messages = [result.problem] if result.problem else []
    messages += [f.problem for check in result.checks for f in check.findings if f.problem is not None]
    return "\n".join(say(m, lang) for m in messages)

from grader.core.config import load_config  # noqa: E402

COURSE = load_config(REPO / "config.yaml")
"""The repository's course config, loaded once: its exercises are course data, not package constants."""
EXERCISES = COURSE.exercises
EXERCISE_IDS = COURSE.exercise_ids


def spec(exercise_id: str):
    """The repository course's ExerciseSpec for ``exercise_id``."""
    return COURSE.exercise(exercise_id)
