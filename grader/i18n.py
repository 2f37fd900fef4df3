"""Pick the student's language and word catalogue messages in it."""

from __future__ import annotations

import locale
import os
from types import MappingProxyType
from typing import Mapping

from grader.catalog import en, zh
from grader.core.results import Message

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


def has_message(key: str) -> bool:
    """Whether the catalogue words ``key`` (English is complete by test)."""
    return key in en.MESSAGES


def say(msg: Message, lang: str) -> str:
    """Word a Message in ``lang``; a quoted code line that is empty is left out."""
    worded = text(msg.key, lang, **msg.values)
    return "\n".join(line for line in worded.splitlines() if line.strip())
