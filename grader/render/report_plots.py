"""The class report's figures, drawn with matplotlib as self-contained SVG (text as paths: no font, no network).

Figures take only numbers and the instructor's course data (exercise ids): no student-controlled string
is ever drawn. Labels come from the catalogue, in the language plots.figure_style says the installed
fonts can draw.
"""

from __future__ import annotations

import base64
import io
from types import MappingProxyType

from grader.i18n import text
from grader.render.plots import figure_style

STATUS_ORDER = ("passed", "failed", "error", "not_attempted", "not_submitted")
STATUS_COLOURS = MappingProxyType({"passed": "#2e7d32", "failed": "#e08a00", "error": "#c62828", "not_attempted": "#9e9e9e",
                  "not_submitted": "#d9d9d9"})
INK = "#333333"


def histogram_svg(totals: list[float], max_points: float, lang: str) -> str:
    """A histogram of the submissions' totals over 0..max_points, as a data: URI."""
    with figure_style(lang) as label_lang:
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(4.6, 2.6), dpi=100)
        bins = _bins(max_points)
        axes.hist(totals, bins=bins, color="#3b6ea8", edgecolor="white", linewidth=0.8)
        axes.set_xlim(bins[0], bins[-1])
        axes.set_xlabel(text("report.histogram_x", label_lang))
        axes.set_ylabel(text("report.histogram_y", label_lang))
        axes.yaxis.get_major_locator().set_params(integer=True)
        _tidy(axes)
        return _encode(figure)


def statuses_svg(rows: list[tuple[str, dict[str, int]]], lang: str) -> str:
    """One horizontal stacked bar per exercise (id, its status counts), as a data: URI."""
    with figure_style(lang) as label_lang:
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(4.6, max(1.6, 0.6 + 0.33 * len(rows))), dpi=100)
        labels = [exercise_id for exercise_id, _ in rows]
        left = [0] * len(rows)
        for status in STATUS_ORDER:
            counts = [statuses.get(status, 0) for _, statuses in rows]
            if not any(counts):
                continue
            axes.barh(labels, counts, left=left, color=STATUS_COLOURS[status], height=0.62,
                      label=text(f"report.status.{status}", label_lang))
            left = [a + b for a, b in zip(left, counts)]
        axes.invert_yaxis()
        axes.set_xlabel(text("report.statuses_x", label_lang))
        axes.xaxis.get_major_locator().set_params(integer=True)
        if axes.get_legend_handles_labels()[0]:  # an empty class has no bar to explain
            axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, frameon=False, fontsize=7)
        _tidy(axes)
        return _encode(figure)


def _bins(max_points: float) -> list[float]:
    """About one bin per point (at most 20 bins), the last one closed at full marks."""
    count = max(1, min(20, round(max_points))) if max_points > 0 else 1
    top = max_points if max_points > 0 else 1.0
    return [top * i / count for i in range(count + 1)]


def _tidy(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=INK, labelsize=8)
    axes.xaxis.label.set_color(INK)
    axes.yaxis.label.set_color(INK)
    axes.grid(axis="x" if axes.get_ylabel() == "" else "y", alpha=0.25)
    axes.set_axisbelow(True)


def _encode(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    # No date or creator: the same class gives the same bytes on every run (a resumed run included).
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
