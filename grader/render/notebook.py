"""Render a check for Jupyter: the terminal report as HTML, ✓ green and ✗ red."""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class NotebookReport:
    """What ``grader.check`` returns in a notebook: Jupyter shows its HTML, a console its text."""

    text: str
    passed: bool

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
                + "\n".join(rows) + "</pre>")

    def __repr__(self) -> str:
        return self.text
