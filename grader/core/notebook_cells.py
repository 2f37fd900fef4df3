"""The code cells of a Jupyter notebook submission, read as plain JSON.

nbformat's reader validates the whole document against its JSON schema, which
measured ≈10 s of CPU for a 15 MB notebook (large outputs, embedded images);
grading needs only the code cells' text. Notebooks in the current format
(nbformat 4) are read directly; older ones go through nbformat's converter.
"""

from __future__ import annotations

import json


class NotANotebook(ValueError):
    """The bytes are not a Jupyter notebook."""


def code_cells(raw: bytes) -> list[str]:
    """The sources of the notebook's code cells, in order."""
    try:
        tree = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise NotANotebook(type(error).__name__) from None
    if not isinstance(tree, dict) or not isinstance(tree.get("cells", []), list):
        raise NotANotebook("not a notebook document")
    major = tree.get("nbformat")
    if type(major) is not int:
        raise NotANotebook("no nbformat version")
    if major < 4:
        return _converted(raw)
    sources = []
    for cell in tree.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotANotebook("a code cell's source is not text")
        sources.append(source)
    return sources


def _converted(raw: bytes) -> list[str]:
    import nbformat

    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many reader and validation error types
        raise NotANotebook(type(error).__name__) from None
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


WRITEFILE = "%%writefile"


def writefile_prefix(path) -> bytes | None:
    """The first line of the notebook cell that wrote ``path`` with ``%%writefile``, as a Python comment.

    Prepended to the file's bytes, it makes every line number the grader reports the line of that cell
    (the magic is the cell's line 1, the file's line 1 its line 2). None outside IPython, when no cell
    of this kernel's history wrote the file, or when the file was changed since (the cell no longer
    holds what runs). Reads the kernel's input history only; nothing is executed.
    """
    import sys
    from pathlib import Path

    ipython_module = sys.modules.get("IPython")  # never import IPython: outside a kernel there is no cell
    shell = ipython_module.get_ipython() if ipython_module is not None else None
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if not history:
        return None
    try:
        target = Path(path).resolve()
        current = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for cell in reversed(history):
        first, _, body = cell.partition("\n")
        written = writefile_target(first)
        if written is None or Path(written).expanduser().resolve() != target:
            continue
        # The history keeps the cell without its trailing newline; %%writefile ends the file with one.
        return ("# " + first.strip() + "\n").encode("utf-8") if body.rstrip() == current.rstrip() else None
    return None


def writefile_target(first_line: str) -> str | None:
    """The file a ``%%writefile FILE`` line writes; None for any other line, and for ``-a`` (append)."""
    words = first_line.split()
    if len(words) != 2 or words[0] != WRITEFILE:
        return None
    return words[1].strip("'\"")


def without_grader_calls(source: str) -> str:
    """A cell with its ``import grader`` and ``grader.check(...)`` statements commented out in place.

    The student copy's notebook checks each exercise from the kernel; graded, the notebook runs in a
    sandboxed child where the grader is not importable (and must not be), so those statements would
    fail the whole notebook at load. Line numbers are kept. A cell that does not parse is left as it is
    (the syntax error is the student's to see).
    """
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return source
    lines = source.splitlines()
    for statement in tree.body:
        if _runs_grader(statement) and statement.end_lineno is not None:
            for index in range(statement.lineno - 1, statement.end_lineno):
                lines[index] = "# " + lines[index]
    return "\n".join(lines)


def _runs_grader(statement) -> bool:
    import ast

    if isinstance(statement, ast.Import):
        return all(alias.name == "grader" or alias.name.startswith("grader.") for alias in statement.names)
    if isinstance(statement, ast.ImportFrom):
        return statement.level == 0 and (statement.module or "").split(".")[0] == "grader"
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        called = statement.value.func
        while isinstance(called, ast.Attribute):
            called = called.value
        return isinstance(called, ast.Name) and called.id == "grader"
    return False


def exercise_scope(cells: list[str], function: str) -> str:
    """The cells an exercise's function depends on: those that define it, and (transitively) those that
    define a name they use — a helper function in another cell is part of the exercise, a plotting cell
    that only uses the function is not."""
    import ast

    trees = []
    for source in cells:
        try:
            trees.append(ast.parse(source))
        except (SyntaxError, ValueError, RecursionError):
            trees.append(None)
    defined = [_defined_names(tree) for tree in trees]
    chosen = [i for i, names in enumerate(defined) if function in names]
    used = set().union(*(_used_names(trees[i]) for i in chosen)) if chosen else set()
    grew = True
    while grew:
        grew = False
        for index, names in enumerate(defined):
            if index not in chosen and names & used:
                chosen.append(index)
                used |= _used_names(trees[index])
                grew = True
    return "\n\n".join(cells[i] for i in sorted(chosen))


def _defined_names(tree) -> set[str]:
    """Functions and classes a cell defines: the helpers another cell's function can call. (Variables are
    left out: the function's own ``x`` must not pull in a plotting cell's ``x = torch.linspace(...)``.)"""
    import ast

    if tree is None:
        return set()
    return {statement.name for statement in tree.body
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _used_names(tree) -> set[str]:
    import ast

    if tree is None:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
