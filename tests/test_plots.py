"""grader.render.plots: the ex06 figure is written for right and missing answers, labelled in a language its font can draw."""

from __future__ import annotations

import warnings

import pytest

from helpers import spec as exercise, SUBMISSIONS
from grader.commands import check as checking
from grader.render import plots

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("lang, installed, chosen", [
    ("en", {"SimHei"}, ("en", None)),
    ("zh", set(), ("en", None)),
    ("zh", {"DejaVu Sans", "SimHei"}, ("zh", "SimHei")),
    ("zh", {"SimHei", "Noto Sans CJK SC"}, ("zh", "Noto Sans CJK SC")),
], ids=["english", "chinese-without-cjk-font", "chinese-with-simhei", "preferred-font-first"])
def test_plot_is_labelled_in_chinese_only_with_a_font_that_has_the_glyphs(lang, installed, chosen):
    """Is a Chinese plot labelled in Chinese only when a CJK font is installed (else English, not empty boxes)?"""
    assert plots.plot_language(lang, installed) == chosen


@pytest.mark.parametrize("scenario", ["correct", "stubs"])
def test_ex06_plot_is_written_for_an_answer_and_for_none(course, pool, tmp_path, scenario):
    """Does --plot write the PNG both when there is a derivative to draw and when the stub raised?"""
    path = SUBMISSIONS / scenario / exercise("ex06").filename
    checked = checking.check(course, ("ex06",), {"ex06": path}, pool)
    (written,) = plots.write_plots(checked, tmp_path, "en")
    assert written == tmp_path / "plots" / "ex06_sin_derivative.png"
    assert written.read_bytes().startswith(PNG)


def test_chinese_plot_draws_with_the_chosen_font(course, pool, tmp_path, monkeypatch):
    """With a 'CJK' font available, is the plot drawn with it (here DejaVu Sans stands in: it lacks the glyphs)?"""
    monkeypatch.setattr(plots, "CJK_FONTS", ("DejaVu Sans",))
    path = SUBMISSIONS / "correct" / exercise("ex06").filename
    checked = checking.check(course, ("ex06",), {"ex06": path}, pool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph ... missing from font(s) DejaVu Sans"
        (written,) = plots.write_plots(checked, tmp_path, "zh")
    assert written.read_bytes().startswith(PNG)
