"""grader.commands.check: `grader.check(...)` in a notebook reports a mistake as a sentence, never a traceback."""

from __future__ import annotations

import pytest

import grader
from helpers import REPO


@pytest.mark.parametrize("lang, expected", [(None, "没有练习 'ex9'"), ("en", "unknown exercise 'ex9'")])
def test_notebook_check_of_an_unknown_exercise_is_one_sentence(monkeypatch, lang, expected):
    """Does grader.check('ex9') return a failing report saying so (in the course's language, or lang's)?"""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    report = grader.check("ex9", lang=lang)
    assert report.passed is False
    assert report.text.startswith("grader: ") and expected in report.text
    assert "Traceback" not in report.text


def test_notebook_check_leaves_the_hidden_share_to_grading(monkeypatch):
    """grader.check on the untouched stub: 0 points, and the header says what the hidden cases decide
    (the same words as the command line), never "0/2 points" as if the public cases were all there is."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    head = grader.check("ex03", lang="en").text.splitlines()[0]
    assert "0/1 points from public cases; hidden cases decide the other 1 when your instructor grades (2 in all)" in head
