"""``grader check --plot``: draw the student's derivative next to the expected one (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

from grader.checking import CheckRun
from grader.outcome import TensorValue

PLOTTED = ("ex06",)


def write_plots(checked: CheckRun, course_root: Path) -> list[Path]:
    """Write one PNG per plottable exercise that was checked; returns their paths."""
    written = []
    for exercise_plan, run in zip(checked.plans, checked.runs):
        if exercise_plan.definition.id in PLOTTED:
            written.append(_sin_plot(exercise_plan, run, course_root / "plots" / "ex06_sin_derivative.png"))
    return written


def _sin_plot(exercise_plan, run, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    case = exercise_plan.cases[0]
    x = case.input.to(torch.float64)
    expected = exercise_plan.expected[0].returned
    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    axes.plot(x, torch.sin(x), label="sin(x)", color="#1f77b4")
    if isinstance(expected, TensorValue) and expected.data is not None:
        axes.plot(x, expected.data.to(torch.float64), label="expected d sin(x)/dx", color="#2ca02c", linewidth=4,
                  alpha=0.35)
    student = run.cases[0].returned if run is not None and run.status == "ok" else None
    if isinstance(student, TensorValue) and student.data is not None and student.data.shape == case.input.shape:
        axes.plot(x, student.data.to(torch.float64), label="your derivative", color="#d62728", linestyle="--")
    else:
        axes.text(0.5, 0.5, "no derivative to plot", transform=axes.transAxes, ha="center", color="#d62728")
    axes.set_xlabel("x")
    axes.set_title("ex06 · sin(x) and its derivative")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
