"""Pick the student's language and word catalogue messages in it."""

from __future__ import annotations

import locale
import os
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from grader.catalog import en, zh
from grader.core.results import Message

if TYPE_CHECKING:
    from pathlib import Path

    from grader.errors import GraderError

CATALOGUES: Mapping[str, Mapping[str, str]] = MappingProxyType({"en": en.MESSAGES, "zh": zh.MESSAGES})


def resolve_language(flag: str | None, configured: str | None) -> str:
    """``--lang``, else config.yaml's ``language``, else the locale (Chinese locales get zh), else en."""
    if flag in CATALOGUES:
        return flag
    if configured in CATALOGUES:
        return configured
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        current = locale.getlocale()[0] or ""
    except ValueError:
        current = ""
    return "zh" if current.lower().startswith("zh") else "en"


class _Lenient(dict):
    """Formatting never fails on a missing parameter: it shows '?' instead."""

    def __missing__(self, key: str) -> str:
        return "?"


def text(key: str, lang: str, **params: object) -> str:
    """The catalogue sentence for ``key`` in ``lang`` (English when the key is missing there)."""
    template = CATALOGUES.get(lang, en.MESSAGES).get(key) or en.MESSAGES.get(key, key)
    try:
        return template.format_map(_Lenient(params))
    except (ValueError, TypeError, IndexError):
        return template


def say(msg: Message, lang: str) -> str:
    """Word a Message in ``lang``; a quoted code line that is empty is left out."""
    worded = text(msg.key, lang, **msg.values)
    return "\n".join(line for line in worded.splitlines() if line.strip())


def error_sentence(error: GraderError, lang: str | None, course: Path | None) -> str:
    """``error`` as one sentence in the user's language: ``lang``, else the course's, else the locale's."""
    if error.message is None:
        return str(error)
    # Here, not at the top: grader.core.course imports grader.errors, which imports this module.
    from grader.core.course import find_course
    from grader.errors import GraderError

    try:
        configured = find_course(course).config.language
    except GraderError:
        configured = None  # the error may be that there is no course here
    return say(error.message, resolve_language(lang, configured))
