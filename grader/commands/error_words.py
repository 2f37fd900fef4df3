"""Word a GraderError for the person who met it: one sentence, in their language where the catalogue has it."""

from __future__ import annotations

from pathlib import Path

from grader.core.course import find_course
from grader.errors import GraderError
from grader.i18n import resolve_language, say


def error_sentence(error: GraderError, lang: str | None, course: Path | None) -> str:
    """``error`` as one sentence in the user's language: ``lang``, else the course's, else the locale's."""
    if error.message is None:
        return str(error)
    try:
        configured = find_course(course).config.language
    except GraderError:
        configured = None  # the error may be that there is no course here
    return say(error.message, resolve_language(lang, configured))
