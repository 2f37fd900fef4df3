"""Checks on a submission's source text, done by parsing (never running) it in the trusted process."""

from __future__ import annotations

import ast
from dataclasses import dataclass

_COSINES = {"cos", "cos_"}


@dataclass(frozen=True)
class SourceHit:
    """A place in the source that does something the exercise forbids."""

    line: int
    text: str


def parse(source: str, filename: str) -> ast.Module:
    """ast.parse, turning pathological input into a SyntaxError too."""
    try:
        return ast.parse(source, filename=filename)
    except (RecursionError, MemoryError, ValueError) as error:
        raise SyntaxError(f"the file cannot be parsed ({type(error).__name__})") from None


def cosine_uses(tree: ast.Module, source: str) -> tuple[SourceHit, ...]:
    """Every use of a cosine: ``torch.cos``, ``x.cos()``, ``np.cos``, ``from math import cos``, ``getattr(t, "cos")``."""
    lines = source.splitlines()
    hits = []
    for node in ast.walk(tree):
        if (
            (isinstance(node, ast.Attribute) and node.attr in _COSINES)
            or (isinstance(node, ast.Name) and node.id in _COSINES)
            or (isinstance(node, ast.ImportFrom) and any(alias.name in _COSINES for alias in node.names))
            or (isinstance(node, ast.Constant) and node.value in _COSINES)
        ):
            line = getattr(node, "lineno", 0)
            hits.append(SourceHit(line, lines[line - 1].strip() if 0 < line <= len(lines) else ""))
    unique = {hit.line: hit for hit in hits}
    return tuple(unique[line] for line in sorted(unique))
