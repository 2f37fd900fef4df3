"""Progress for long runs: a rich bar with counts and ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Counts graded submissions; use as a context manager around the run."""

    def __init__(self, total: int, already: int = 0, stream: TextIO | None = None, label: str = "grading"):
        self.total = total
        self.done = already
        self.stream = stream or sys.stderr
        self.label = label
        self._bar = None
        self._task = None

    def __enter__(self) -> "Progress":
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("•"), TimeElapsedColumn(), TextColumn("• ETA"), TimeRemainingColumn(),
                TextColumn("{task.fields[last]}"),
                console=Console(file=self.stream), transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done, last="")
        return self

    def advance(self, name: str, detail: str) -> None:
        """One more submission is done."""
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, last=f"{name}: {detail}")
        else:
            print(f"[{self.done}/{self.total}] {name}: {detail}", file=self.stream, flush=True)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc_info)
