"""Render a check for Jupyter: the terminal report as HTML, ✓ green and ✗ red."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotebookReport:
    """What ``grader.check`` returns in a notebook: Jupyter shows its HTML, a console its text."""

    text: str
    passed: bool
    images: tuple[Path, ...] = ()
    """PNG plots written for this check, shown under the report (``grader.check(..., plot=True)``)."""

    def _repr_html_(self) -> str:
        rows = []
        for line in self.text.splitlines():
            escaped = html.escape(line)
            stripped = line.lstrip()
            if stripped.startswith("✓"):
                escaped = f'<span style="color:#15803d">{escaped}</span>'
            elif stripped.startswith("✗"):
                escaped = f'<span style="color:#b91c1c">{escaped}</span>'
            rows.append(escaped)
        border = "#15803d" if self.passed else "#b91c1c"
        return (f'<pre style="border-left:4px solid {border};padding:0.5em 1em;white-space:pre-wrap">'
                + "\n".join(rows) + "</pre>" + "".join(_image(path) for path in self.images))

    def __repr__(self) -> str:
        return self.text + "".join(f"{path}\n" for path in self.images)


def _image(path: Path) -> str:
    """A PNG inlined into the report, so the notebook keeps it (a path would break when the file moves)."""
    try:
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    except OSError:
        return ""
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'
