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


def test_figure_style_draws_an_ascii_minus_and_restores_everything():
    """Inside figure_style is the minus sign ASCII (CJK fonts lack U+2212) and are warnings and the font log
    level as before once it ends?"""
    import logging

    import matplotlib

    font_log = logging.getLogger("matplotlib.font_manager")
    before = (list(warnings.filters), font_log.level, matplotlib.rcParams["axes.unicode_minus"])
    with plots.figure_style("zh"):
        assert matplotlib.rcParams["axes.unicode_minus"] is False
        assert font_log.level >= logging.ERROR
    assert (list(warnings.filters), font_log.level, matplotlib.rcParams["axes.unicode_minus"]) == before


def test_chinese_plot_lets_no_font_warning_reach_the_terminal(course, pool, tmp_path, monkeypatch, caplog, capfd):
    """Drawn with a font that lacks the Chinese glyphs (DejaVu Sans standing in for a CJK font), does the plot
    emit no warning and log nothing from matplotlib's font manager?"""
    monkeypatch.setattr(plots, "CJK_FONTS", ("DejaVu Sans",))
    path = SUBMISSIONS / "correct" / exercise("ex06").filename
    checked = checking.check(course, ("ex06",), {"ex06": path}, pool)
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("DEBUG", logger="matplotlib"):
        warnings.simplefilter("always")
        (written,) = plots.write_plots(checked, tmp_path, "zh")
    assert written.read_bytes().startswith(PNG)
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records
            if r.name.startswith("matplotlib.font_manager") and r.levelno >= 30] == []
    assert "Glyph" not in capfd.readouterr().err
