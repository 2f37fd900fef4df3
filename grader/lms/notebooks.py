"""Build Jupyter notebooks from the exercise stubs (nbformat): one for students' own checking, one for otter."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.core.exercises import ExerciseSpec

INTRO = (
    "# 自动微分 · Automatic differentiation (《动手学深度学习》2.5)\n\n"
    "每道练习：先读题，再把函数补充完整。 / For each exercise: read the task, then complete the function."
)


@dataclass(frozen=True)
class Stub:
    """An exercise stub split into its task text (the module docstring) and its code."""

    exercise_id: str
    filename: str
    task: str
    code: str


def read_stubs(exercises_dir: Path, exercises: tuple[ExerciseSpec, ...]) -> tuple[Stub, ...]:
    """Every exercise's stub, in the course's order."""
    stubs = []
    for definition in exercises:
        source = (exercises_dir / definition.filename).read_text("utf-8")
        tree = ast.parse(source)
        task = ast.get_docstring(tree) or ""
        first = tree.body[0] if tree.body else None
        has_docstring = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
        code_lines = source.splitlines()[first.end_lineno:] if has_docstring and first.end_lineno else source.splitlines()
        stubs.append(Stub(definition.id, definition.filename, task, "\n".join(code_lines).strip() + "\n"))
    return tuple(stubs)


def check_notebook(stubs: tuple[Stub, ...]) -> nbformat.NotebookNode:
    """For students' own copy: each exercise cell writes its file, and the next cell checks it in a sandbox."""
    cells = [nbformat.v4.new_markdown_cell(INTRO + "\n\n运行“检查”单元格会在独立的进程中测试你的代码。 / "
                                           "The check cells test your code in a separate, sandboxed process.")]
    for stub in stubs:
        cells.append(nbformat.v4.new_markdown_cell(f"## {stub.exercise_id}\n\n{task_markdown(stub.task)}"))
        cells.append(nbformat.v4.new_code_cell(f"%%writefile exercises/{stub.filename}\n{stub.code}"))
        cells.append(nbformat.v4.new_code_cell(f'import grader\ngrader.check("{stub.exercise_id}")'))
    return nbformat.v4.new_notebook(cells=cells, metadata=_metadata())


def submission_notebook(stubs: tuple[Stub, ...]) -> nbformat.NotebookNode:
    """For otter / Gradescope: the functions themselves, in code cells, submitted as the notebook."""
    cells = [nbformat.v4.new_markdown_cell(INTRO + "\n\n完成后提交本笔记本。 / Submit this notebook when done.")]
    for stub in stubs:
        cells.append(nbformat.v4.new_markdown_cell(f"## {stub.exercise_id}\n\n{task_markdown(stub.task)}"))
        cells.append(nbformat.v4.new_code_cell(stub.code.rstrip("\n")))
    return nbformat.v4.new_notebook(cells=cells, metadata=_metadata())


def task_markdown(task: str) -> str:
    """A stub's docstring as Markdown: prose as it is, each indented example (the book's ``>>>`` sessions)
    a fenced code block of its own.

    Markdown lets an indented block continue the paragraph above it, so the docstring as written runs
    the book's example into one line of prose.
    """
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            out.extend(["", "```python", *textwrap.dedent("\n".join(block)).splitlines(), "```", ""])
            block.clear()

    for line in task.splitlines():
        if line.startswith(("    ", "\t")) and line.strip():
            block.append(line)
            continue
        flush()
        out.append(line)
    flush()
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n")


def script(stubs: tuple[Stub, ...]) -> str:
    """All six functions in one .py file (otter's script submissions)."""
    parts = ['"""自动微分练习 · Autograd exercises: complete every function, then submit this file."""\n']
    for stub in stubs:
        body = "\n".join(line for line in stub.code.splitlines() if line.strip() != "import torch")
        task = "\n".join("# " + line if line else "#" for line in stub.task.splitlines())
        parts.append(f"# {'=' * 70}\n# {stub.exercise_id}\n{task}\n{body.strip()}\n")
    return "import torch\n\n\n" + "\n\n".join(parts)


def _metadata() -> dict:
    return {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}}
