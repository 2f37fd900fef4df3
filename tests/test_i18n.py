"""grader.i18n and the catalogues: both languages say the same things, and the language is chosen predictably."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

import grader
from grader.core import diagnose, results
from grader.catalog import en, zh
from grader.i18n import resolve_language, say, text
from helpers import EXERCISES
from grader.core import hints

PACKAGE = Path(grader.__file__).resolve().parent
KEYED_CALLS = {"message", "text", "_matches", "_scaled", "_doubled"}
"""Functions whose first argument is a catalogue key."""
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogues_have_the_same_keys():
    """Does every English sentence have a Chinese one, and the other way round?"""
    assert set(en.MESSAGES) - set(zh.MESSAGES) == set()
    assert set(zh.MESSAGES) - set(en.MESSAGES) == set()


def test_catalogues_use_the_same_placeholders():
    """Does each key's Chinese sentence use exactly the placeholders of its English one?"""
    differ = {key: (placeholders(en.MESSAGES[key]), placeholders(zh.MESSAGES[key]))
              for key in en.MESSAGES if key in zh.MESSAGES
              and placeholders(en.MESSAGES[key]) != placeholders(zh.MESSAGES[key])}
    assert differ == {}


def _keys_in(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(literal keys, f-string prefixes) passed to the catalogue as first argument of KEYED_CALLS."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)

    keys: set[str] = set()
    prefixes: set[str] = set()

    def resolve(expr: ast.expr, seen: frozenset = frozenset()) -> None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            keys.add(expr.value)
        elif isinstance(expr, ast.IfExp):
            resolve(expr.body, seen)
            resolve(expr.orelse, seen)
        elif isinstance(expr, ast.JoinedStr):
            head = expr.values[0] if expr.values else None
            if (isinstance(head, ast.FormattedValue) and isinstance(head.value, ast.Attribute)
                    and head.value.attr == "key"):
                prefixes.add("<a hint's key>")  # a variant of a hint plug-in's key: checked below
            else:
                prefixes.add(head.value if isinstance(head, ast.Constant) else "")
        elif isinstance(expr, ast.Name):
            # A variable assigned in the module is followed; a parameter or loop variable (the keys of
            # diagnose._KNOWN_ERRORS, a factory's key) is covered where its values are written.
            for value in assigned.get(expr.id, []) if expr.id not in seen else []:
                resolve(value, seen | {expr.id})
        elif isinstance(expr, ast.Attribute) and expr.attr == "key":
            pass  # re-wording a Message that already carries a checked key
        else:
            raise AssertionError(f"cannot tell which catalogue key {ast.unparse(expr)!r} is")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            # Bare names only: axes.text(...) or path.read_text() are not the catalogue. And the one
            # method: SomeError.worded(key, ...), an error whose sentence is a catalogue key.
            if (isinstance(node.func, ast.Name) and node.func.id in KEYED_CALLS
                    or isinstance(node.func, ast.Attribute) and node.func.attr == "worded"):
                resolve(node.args[0])
    return keys, prefixes


def test_every_key_the_code_uses_exists_in_both_catalogues():
    """Does every message()/text() key in grader/ (and every known-error key) exist in English and Chinese?"""
    used: set[str] = set()
    prefixes: set[str] = set()
    files = sorted(PACKAGE.rglob("*.py"))
    for path in files:
        if path.parent.name == "catalog":
            continue
        keys, found_prefixes = _keys_in(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        used |= keys
        prefixes |= found_prefixes
    used |= {key for _, _, key in diagnose._KNOWN_ERRORS}
    assert len(used) > 30, "the scan found too few keys to be looking in the right place"
    # The computed keys: every status needs a sentence (for a student and in the class report), every hint
    # plug-in its message, a banned operation its own sentence or the generic one; a misconception's title
    # falls back to a generic sentence (tests/test_summary.py holds every known one to having a title).
    assert prefixes <= {"ui.status.", "report.status.", "hint.", "banned.", "misconception.", "<a hint's key>"}, \
        prefixes
    statuses = [getattr(results, name) for name in dir(results) if name.startswith("STATUS_")]
    used |= {f"ui.status.{status}" for status in statuses} | {f"report.status.{status}" for status in statuses}
    used |= {"misconception.untitled"}
    used |= {hint.key for hint in hints.HINTS.values()}
    used |= {f"{hint.key}.{variant}" for hint in hints.HINTS.values() if hint.inspects == "timeout"
             for variant in ("loop", "loop_case")}
    used |= {"banned"}
    for catalogue, name in ((en.MESSAGES, "en"), (zh.MESSAGES, "zh")):
        missing = sorted(key for key in used if key not in catalogue)
        assert missing == [], f"{name} catalogue lacks {missing}"


def test_every_check_label_of_the_course_is_bilingual():
    """Does every check of the course's exercises carry a Chinese and an English label (the English one is the
    stable Gradescope test name)?"""
    labels = [(e.id, c.id, c.label) for e in EXERCISES for c in e.checks]
    assert labels and all(label.zh.strip() and label.en.strip() for _, _, label in labels)
    assert len({(e, label.en) for e, _, label in labels}) == len(labels), "two checks of one exercise share a name"


def test_missing_parameter_shows_a_question_mark():
    """Does a sentence with a missing parameter still render (with '?'), rather than raise?"""
    worded = text("not_submitted", "en")
    assert "?" in worded


def test_say_drops_an_empty_code_line():
    """Does a message whose quoted code is empty leave out that blank line?"""
    worded = say(results.message("raised", line=3, type="ValueError", error="bad", code=""), "en")
    assert all(line.strip() for line in worded.splitlines())
    assert "ValueError" in worded


@pytest.fixture
def no_locale(monkeypatch):
    for variable in LOCALE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.mark.parametrize("flag, configured, lang_variable, chosen", [
    ("en", "zh", "zh_CN.UTF-8", "en"),
    ("zh", "en", "C", "zh"),
    (None, "en", "zh_CN.UTF-8", "en"),
    (None, "zh", "C", "zh"),
    (None, None, "zh_CN.UTF-8", "zh"),
    (None, None, "zh_TW.UTF-8", "zh"),
    (None, None, "C", "en"),
    (None, None, "en_US.UTF-8", "en"),
], ids=["flag-over-config", "flag-over-locale", "config-over-locale", "config-zh", "LANG-zh_CN", "LANG-zh_TW",
        "LANG-C", "LANG-en_US"])
def test_language_is_flag_then_config_then_locale(no_locale, flag, configured, lang_variable, chosen):
    """Is the language --lang, else config.yaml's language, else the locale (Chinese locales → zh)?"""
    no_locale.setenv("LANG", lang_variable)
    assert resolve_language(flag, configured) == chosen


def test_lc_all_overrides_lang(no_locale):
    """Does LC_ALL win over LANG, as in POSIX locale resolution?"""
    no_locale.setenv("LANG", "C")
    no_locale.setenv("LC_ALL", "zh_CN.UTF-8")
    assert resolve_language(None, None) == "zh"


def test_the_instructors_part_of_each_catalogue_overrides_no_student_key():
    """en.py and zh.py merge their *_instructor part last: a key in both would silently replace a student's."""
    from grader.catalog import en_instructor, zh_instructor

    for module, part in ((en, en_instructor), (zh, zh_instructor)):
        tree = ast.parse(open(module.__file__, encoding="utf-8").read())
        own = {node.value for node in ast.walk(tree) if isinstance(node, ast.Dict)
               for node in node.keys if isinstance(node, ast.Constant)}
        assert own and not own & set(part.INSTRUCTOR), own & set(part.INSTRUCTOR)
        assert set(part.INSTRUCTOR) <= set(module.MESSAGES)
