"""Feedback in Jupyter: notebook wording, the cell's own line numbers, task text as Markdown, what the
student copy installs, and notebook submissions whose helper cells are part of the exercise."""

from __future__ import annotations

import csv
import json
import re
import shutil
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

import grader
from grader.cli import main
from grader.core.config import load_config
from grader.lms import notebooks
from helpers import FIXTURES, REPO, SUBMISSIONS, copy_course

NOTEBOOKS = FIXTURES / "notebooks"
FLAGS = re.compile(r"(^|\s)(-v|--verbose|--plot|--file)\b|grader check ")


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "copy"
    assert main(["--course", str(REPO), "dist", str(out)]) == 0
    return out


def _course_with(tmp_path: Path, files: dict[str, Path]) -> Path:
    """A copy of the course whose exercises/ holds these students' files."""
    root = copy_course(tmp_path / "course")
    for exercise_id, path in files.items():
        shutil.copy2(path, root / "exercises" / load_config(root / "config.yaml").exercise(exercise_id).filename)
    return root


# --------------------------------------------------------------------------- wording for a notebook


def test_notebook_advice_names_grader_check_arguments_not_flags(tmp_path, monkeypatch):
    """ex05 failing on both public cases, ex06 with the cosine: the terminal says `-v` and `--plot`; the
    notebook says `grader.check("ex05", verbose=True)` and `grader.check("ex06", plot=True)`, in both languages."""
    root = _course_with(tmp_path, {"ex05": SUBMISSIONS / "ex05_item" / "ex05_control_flow.py",
                                   "ex06": SUBMISSIONS / "ex06_uses_cos" / "ex06_sin_cos.py"})
    monkeypatch.chdir(root)
    for lang, more, plot in (("en", 'run grader.check("ex05", verbose=True)', 'grader.check("ex06", plot=True)'),
                             ("zh", '运行 grader.check("ex05", verbose=True)', 'grader.check("ex06", plot=True)')):
        report = grader.check("ex05", "ex06", lang=lang, course=str(root))
        assert not report.passed
        assert more in report.text and plot in report.text, report.text
        assert not FLAGS.search(report.text), report.text

def test_the_terminal_keeps_its_flags(tmp_path, pool):
    """The same results on the command line: `-v` and `grader check ex06 --plot`, never grader.check(...)."""
    from grader.commands import check as checking
    from grader.core.course import find_course
    from grader.render.terminal import render_submission

    root = _course_with(tmp_path, {"ex05": SUBMISSIONS / "ex05_item" / "ex05_control_flow.py",
                                   "ex06": SUBMISSIONS / "ex06_uses_cos" / "ex06_sin_cos.py"})
    course = find_course(root)
    result = checking.check(course, ("ex05", "ex06"), {i: course.exercise_file(i) for i in ("ex05", "ex06")},
                            pool).result
    terminal = render_submission(result, course.config, "en")
    assert "run with -v" in terminal and "grader check ex06 --plot" in terminal
    assert "grader.check(" not in terminal


def test_plot_true_draws_the_plot_into_the_report(tmp_path, monkeypatch):
    """grader.check("ex06", plot=True) on a wrong ex06: the report carries the PNG inline."""
    root = _course_with(tmp_path, {"ex06": SUBMISSIONS / "ex06_uses_cos" / "ex06_sin_cos.py"})
    monkeypatch.chdir(root)
    report = grader.check("ex06", lang="en", course=str(root), plot=True)
    assert report.images and all(Path(p).is_file() for p in report.images)
    assert 'src="data:image/png;base64,' in report._repr_html_()
    assert not grader.check("ex06", lang="en", course=str(root)).images


# --------------------------------------------------------------------------- task text as Markdown


def test_task_cells_keep_the_books_examples_as_code_blocks(student_copy):
    """Rendered as Markdown (markdown-it, CommonMark), is each example of a task a code block of its own,
    its lines intact, and none of it run into a paragraph?"""
    markdown_it = pytest.importorskip("markdown_it")
    notebook = nbformat.read(student_copy / "autograd.ipynb", as_version=4)
    stubs = notebooks.read_stubs(REPO / "exercises", load_config(REPO / "config.yaml").exercises)
    tasks = [c.source for c in notebook.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert len(tasks) == len(stubs)
    examples = 0
    for stub, source in zip(stubs, tasks):
        html = markdown_it.MarkdownIt("commonmark").render(source)
        paragraphs = " ".join(re.findall(r"<p>(.*?)</p>", html, flags=re.S))
        for line in stub.task.splitlines():
            if line.strip().startswith(">>>"):
                examples += 1
                code = line.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                assert code in html and code not in paragraphs, (stub.exercise_id, line)
        assert "&gt;&gt;&gt;" not in paragraphs, (stub.exercise_id, paragraphs)
    assert examples >= 5


# --------------------------------------------------------------------------- the student copy's set-up


def test_the_copy_installs_what_the_notebook_needs(student_copy):
    """requirements.txt in the copy: the grading pins, plus ipykernel (pinned to a version that installs here);
    the README says so."""
    requirements = (student_copy / "requirements.txt").read_text("utf-8")
    for line in (REPO / "requirements.txt").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            assert line in requirements.splitlines()
    pins = dict(line.split("==") for line in requirements.splitlines() if "==" in line and not line.startswith("#"))
    assert pins["ipykernel"] == metadata.version("ipykernel")
    readme = (student_copy / "README.md").read_text("utf-8")
    assert "ipykernel" in readme and 'verbose=True' in readme


# --------------------------------------------------------------------------- a real kernel: the cell's lines


@pytest.mark.slow
def test_line_numbers_in_a_notebook_are_the_cells(student_copy, tmp_path):
    """A %%writefile cell whose line 8 calls y.backward() on a vector: grader.check in a real kernel names
    line 8 of that cell (the file's line 7), and the quoted code is that line."""
    nbclient = pytest.importorskip("nbclient")
    copy = tmp_path / "copy"
    shutil.copytree(student_copy, copy)
    cell_source = ("%%writefile exercises/ex03_sum_backward.py\n"
                   "import torch\n"
                   "\n"
                   "\n"
                   "def sum_backward(x):\n"
                   "    x.requires_grad_(True)\n"
                   "    y = x * x\n"
                   "    y.backward()\n"
                   "    return y\n")
    line = cell_source.splitlines().index("    y.backward()") + 1
    assert line == 8
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(cell_source),
        nbformat.v4.new_code_cell('import grader\ngrader.check("ex03", lang="en")'),
        nbformat.v4.new_code_cell("%%writefile exercises/ex01_grad_of_dot.py\nimport torch\n\n\n"
                                  "def grad_of_dot(x):\n    return undefined_name\n"),
    ])
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(copy)}}).execute()
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
                    for o in notebook.cells[1].get("outputs", []))
    assert f"exercises/ex03_sum_backward.py, line {line}:" in shown, shown
    assert "y.backward()" in shown
    # The same file checked from the command line has the file's own numbering.
    from grader.commands import check as checking
    from grader.core.course import find_course
    from grader.render.terminal import render_submission
    from grader.runner.pool import Pool

    course = find_course(copy)
    with Pool(jobs=1) as pool:
        result = checking.check(course, ("ex03",), {"ex03": copy / "exercises" / "ex03_sum_backward.py"}, pool).result
    assert f"line {line - 1}:" in render_submission(result, course.config, "en")


# --------------------------------------------------------------------------- notebook submissions


@pytest.fixture(scope="module")
def graded_notebooks(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nb")
    (root / "in").mkdir()
    for path in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy2(path, root / "in" / path.name)
    assert main(["--course", str(REPO), "grade", str(root / "in"), "-o", str(root / "out"), "--jobs", "2",
                 "--lang", "en"]) in (0, 1)
    return root / "out"


def _row(out: Path, name: str) -> dict:
    with open(out / "grades.csv", encoding="utf-8") as handle:
        return next(r for r in csv.DictReader(handle) if r["submission"] == name)


def test_the_student_copys_own_notebook_grades_in_full(graded_notebooks):
    """autograd.ipynb as the copy ships it (%%writefile and grader.check cells), solved: full marks — its
    grader.check(...) cells do not run in the child, where the grader cannot be imported."""
    row = _row(graded_notebooks, "student_copy_solved")
    assert float(row["total"]) == load_config(REPO / "config.yaml").max_points, row


def test_a_helper_cell_runs_as_part_of_the_exercise(graded_notebooks):
    """ex06's function calling a helper defined in another cell: the helper runs in the child (full marks
    with autograd; a plotting cell drawing cos for comparison does not count against it), and a helper
    that returns the cosine is seen."""
    assert float(_row(graded_notebooks, "ex06_helper_cell")["ex06"]) == 3
    assert float(_row(graded_notebooks, "ex06_helper_cosine")["ex06"]) < 3
    tests = json.loads((graded_notebooks / "ex06_helper_cosine" / "results.json").read_text("utf-8"))["tests"]
    assert any(t["name"].startswith("ex06") and t["status"] == "failed" for t in tests)
