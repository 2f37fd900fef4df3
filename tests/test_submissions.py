"""Does a student's folder that holds the filled-in notebook, rather than exercise files, get read?"""

from __future__ import annotations

import shutil

from helpers import EXERCISES, FIXTURES, REPO
from grader.core import submissions

SOLVED_NOTEBOOK = FIXTURES / "canvas_bulk" / "members" / "zhaolei_late_1003_5003_autograd.ipynb"


def test_a_folder_holding_a_notebook_is_read_as_that_notebook(tmp_path):
    student = tmp_path / "class" / "lihua"
    (student / "作业").mkdir(parents=True)
    shutil.copy(SOLVED_NOTEBOOK, student / "作业" / "autograd.ipynb")
    (student / "作业" / ".autograd-checkpoint.ipynb").write_text("{}")  # Jupyter litter is not the answer
    [found] = submissions.discover([tmp_path / "class"])
    files = submissions.read(found, EXERCISES)
    assert files.problem is None and files.submission.name == "lihua"
    for exercise in EXERCISES:
        assert f"def {exercise.function}(".encode() in files.file(exercise.id)
        assert files.shown_as(exercise.id) == "autograd.ipynb"


def test_exercise_files_win_over_a_notebook_beside_them(tmp_path):
    student = tmp_path / "class" / "wangfang"
    student.mkdir(parents=True)
    shutil.copy(SOLVED_NOTEBOOK, student / "autograd.ipynb")
    shutil.copy(REPO / "solutions" / "ex03_sum_backward.py", student / "ex03_sum_backward.py")
    [found] = submissions.discover([tmp_path / "class"])
    files = submissions.read(found, EXERCISES)
    assert files.file("ex03") == (REPO / "solutions" / "ex03_sum_backward.py").read_bytes()
    assert files.file("ex01") is None
