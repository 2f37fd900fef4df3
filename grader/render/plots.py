"""``grader check --plot``: named plots an exercise's config can ask for (matplotlib, Agg).

``sin_derivative`` draws sin(x), the expected derivative and the student's
result over the first public case's points. This module imports neither
torch nor matplotlib until a plot is drawn: config validation reads
``PLOT_NAMES`` before either is loaded.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from grader.i18n import text

if TYPE_CHECKING:
    from grader.commands.check import CheckRun

PLOT_NAMES: tuple[str, ...] = ("sin_derivative",)
# Fonts with Chinese glyphs that students' systems commonly have (Linux, Windows, macOS), best first.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "STHeiti", "Hiragino Sans GB", "Arial Unicode MS")


def write_plots(checked: "CheckRun", course_root: Path, lang: str) -> list[Path]:
    """Write one PNG per checked exercise whose config names a plot; returns their paths."""
    written = []
    for exercise_plan, run in zip(checked.plans, checked.runs):
        spec = exercise_plan.spec
        if spec.plot == "sin_derivative":
            written.append(_sin_plot(exercise_plan, run, course_root / "plots" / f"{spec.id}_{spec.plot}.png", lang))
    return written


def plot_language(lang: str, installed_fonts: set[str]) -> tuple[str, str | None]:
    """The language the plot can be labelled in, and the font that draws it (None: matplotlib's default).

    Chinese needs a font with its glyphs; matplotlib's bundled DejaVu Sans has none and would draw
    empty boxes, so without one the plot is labelled in English.
    """
    if lang != "zh":
        return "en", None
    font = next((name for name in CJK_FONTS if name in installed_fonts), None)
    return ("zh", font) if font else ("en", None)


@contextmanager
def figure_style(lang: str) -> Iterator[str]:
    """Draw our own figures inside this: yields the language the labels can be written in.

    Sets the font plot_language chooses, draws the minus sign as ASCII '-' (CJK fonts lack U+2212 and
    would show a box), and keeps matplotlib's font warnings (missing glyphs, fonts not found) from the
    terminal while our figures are drawn, and only then.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager

    lang, font = plot_language(lang, {entry.name for entry in font_manager.fontManager.ttflist})
    style: dict = {"axes.unicode_minus": False, "svg.hashsalt": "autograd-grader"}
    if font:
        style["font.sans-serif"] = [font, *matplotlib.rcParams["font.sans-serif"]]
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), matplotlib.rc_context(style):
            warnings.filterwarnings("ignore", message=r"(?i).*(glyph|font)", category=UserWarning)
            warnings.filterwarnings("ignore", module=r"matplotlib\.font_manager")
            yield lang
    finally:
        font_log.setLevel(level)


def _sin_plot(exercise_plan, run, path: Path, lang: str) -> Path:
    with figure_style(lang) as label_lang:
        return _draw_sin_plot(exercise_plan, run, path, label_lang)


def _draw_sin_plot(exercise_plan, run, path: Path, lang: str) -> Path:
    import matplotlib.pyplot as plt
    import torch

    from grader.runner.outcome import TensorValue

    case = exercise_plan.cases[0]
    x = case.input.to(torch.float64)
    expected = exercise_plan.expected[0].returned
    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    axes.plot(x, torch.sin(x), label="sin(x)", color="#1f77b4")
    if isinstance(expected, TensorValue) and expected.data is not None:
        axes.plot(x, expected.data.to(torch.float64), label=text("plot.expected", lang), color="#2ca02c", linewidth=4,
                  alpha=0.35)
    student = run.cases[0].returned if run is not None and run.status == "ok" else None
    if isinstance(student, TensorValue) and student.data is not None and student.data.shape == case.input.shape:
        axes.plot(x, student.data.to(torch.float64), label=text("plot.yours", lang), color="#d62728", linestyle="--")
    else:
        axes.text(0.5, 0.5, text("plot.nothing", lang), transform=axes.transAxes, ha="center", color="#d62728")
    axes.set_xlabel("x")
    axes.set_title(text("plot.title", lang, id=exercise_plan.spec.id))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
