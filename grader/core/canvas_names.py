"""The names Canvas gives the files of a "Download Submissions" zip, parsed.

Canvas names each file ``<lastfirst>[_late]_<user id>_<attachment id>_<original name>``: the student part is
lowercased, the late mark comes in any case, and a resubmitted file's original name gains ``-1``, ``-2``, ...
before its extension. The user id is the student's identity; the attachment id grows with each upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CANVAS_NAME = re.compile(r"^(?P<student>[^/]+?)(?:_late)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>[^/]+)$",
                          re.IGNORECASE)
_RESUBMITTED = re.compile(r"-\d+$")


@dataclass(frozen=True)
class CanvasName:
    """One bulk-download member's name, taken apart."""

    student: str
    user: str
    attachment: int
    original: str
    """The file name the student uploaded, as Canvas kept it (``ex03_sum_backward-1.py``)."""
    stem: str
    """The original name without its extension and without Canvas's resubmission suffix (``ex03_sum_backward``)."""
    extension: str
    """Lowercased, with its dot (``.py``); empty when the name has none."""


def parse(member: str) -> CanvasName | None:
    """The parts of a member's base name, or None when Canvas did not name it."""
    match = _CANVAS_NAME.match(member.rsplit("/", 1)[-1])
    if match is None:
        return None
    original = match["file"]
    stem, dot, extension = original.rpartition(".")
    if not dot or not stem:
        stem, extension = original, ""
    else:
        stem, extension = _RESUBMITTED.sub("", stem), f".{extension.lower()}"
    return CanvasName(match["student"], match["user"], int(match["attachment"]), original, stem, extension)
