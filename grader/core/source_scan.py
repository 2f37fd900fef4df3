"""Find a banned function's uses in a submission's source text, by parsing (never running) it in the trusted process.

The text never decides a verdict when the child recorded what the code did
(grader.core.behaviour): a hit only points the student at a line once the
behaviour agrees, and decides alone only when the recorder reported nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceHit:
    """A place in the source that reaches an operation the exercise bans."""

    line: int
    text: str
    op: str


def parse(source: str, filename: str) -> ast.Module:
    """ast.parse, turning pathological input into a SyntaxError too."""
    try:
        return ast.parse(source, filename=filename)
    except (RecursionError, MemoryError, ValueError) as error:
        raise SyntaxError(f"the file cannot be parsed ({type(error).__name__})") from None


def banned_uses(tree: ast.Module, source: str, banned: tuple[str, ...]) -> tuple[SourceHit, ...]:
    """Every use of a banned operation ``op``: ``torch.op``, ``x.op()``, ``x.op_()``, ``from math import op``,
    ``getattr(t, "op")``; one hit per line, in line order."""
    if not banned:
        return ()
    names = {variant: op for op in banned for variant in (op, op + "_")}
    lines = source.splitlines()
    hits: dict[int, SourceHit] = {}
    for node in ast.walk(tree):
        found = None
        if isinstance(node, ast.Attribute):
            found = names.get(node.attr)
        elif isinstance(node, ast.Name):
            found = names.get(node.id)
        elif isinstance(node, ast.ImportFrom):
            found = next((names[alias.name] for alias in node.names if alias.name in names), None)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = names.get(node.value)
        if found is not None:
            line = getattr(node, "lineno", 0)
            hits.setdefault(line, SourceHit(line, lines[line - 1].strip() if 0 < line <= len(lines) else "", found))
    return tuple(hits[line] for line in sorted(hits))


def while_loops(tree: ast.Module, source: str, function: str) -> tuple[SourceHit, ...]:
    """The ``while`` loops of ``function`` (of the whole file when it defines no such function), in line order:
    the line and the loop's header as the student wrote it (``op`` is 'while')."""
    scopes = [node for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function] or [tree]
    lines = source.splitlines()
    found = {node.lineno: node for scope in scopes for node in ast.walk(scope) if isinstance(node, ast.While)}
    hits = []
    for line in sorted(found):
        # One line however the student wrapped it: the message quotes it inline.
        header = " ".join(f"while {ast.get_source_segment(source, found[line].test) or ''}".split())
        if not header.removeprefix("while").strip() and 0 < line <= len(lines):
            header = lines[line - 1].strip().rstrip(":")
        hits.append(SourceHit(line, header[:120], "while"))
    return tuple(hits)
