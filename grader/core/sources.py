"""Read a submission's exercise file in the trusted process: bytes → text → syntax tree, never executed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.core import source_scan
from grader.core.exercises import ExerciseSpec
from grader.core.results import Message, message

MAX_SOURCE_BYTES = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    """One exercise file as read from disk, or why it could not be used."""

    exercise_id: str
    display: str
    """The name shown to people and in tracebacks."""
    text: str | None
    problem: Message | None = None
    banned_hits: tuple[source_scan.SourceHit, ...] = ()
    """Where the source reaches an operation an autograd_only check bans."""
    loops: tuple[source_scan.SourceHit, ...] = ()
    """The ``while`` loops of the exercise's function: what a run that never returned is most likely stuck in."""


def from_bytes(spec: ExerciseSpec, display: str, data: bytes | None, scope: str | None = None) -> SourceFile:
    """Decode and parse one file's bytes; ``None`` means the file was not submitted.

    ``scope``: the source the banned-operation scan reads, when it is not the whole file (a
    notebook's cells that define the function, not the plotting cell that draws cos for comparison).
    """
    exercise_id = spec.id
    if data is None:
        return SourceFile(exercise_id, display, None, message("not_submitted", file=display))
    if len(data) > MAX_SOURCE_BYTES:
        return SourceFile(exercise_id, display, None, message("file_too_large", file=display, size=len(data)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return SourceFile(exercise_id, display, None, message("not_utf8", file=display, line=line))
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        tree = source_scan.parse(text, display)
    except SyntaxError as error:
        code = (error.text or "").strip()
        return SourceFile(exercise_id, display, None, message(
            "syntax_error", file=display, line=error.lineno or 0, code=code, error=error.msg))
    loops = source_scan.while_loops(tree, text, spec.function)
    if scope is not None:
        try:
            return SourceFile(exercise_id, display, text, None,
                              source_scan.banned_uses(source_scan.parse(scope, display), scope, spec.banned), loops)
        except SyntaxError:
            pass  # the scope is part of a file that parsed: fall back to the whole file
    return SourceFile(exercise_id, display, text, None, source_scan.banned_uses(tree, text, spec.banned), loops)


def read(spec: ExerciseSpec, path: Path, display: str) -> SourceFile:
    """Read a file from disk (a missing file is 'not submitted')."""
    try:
        if not path.is_file():
            return from_bytes(spec, display, None)
        return from_bytes(spec, display, path.read_bytes())
    except OSError as error:
        return SourceFile(spec.id, display, None, message("unreadable", file=display, error=error.strerror or ""))
