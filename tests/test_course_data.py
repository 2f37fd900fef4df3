"""Exercises are course data: an instructor adds ex07 with a stub, a solution and a config block, nothing else.

The course is built in a temporary folder from the repository's own course plus
tests/fixtures/course_ex07 (stub, solution, config block, two submissions); every
command runs as a real ``python -m grader`` process with the repository's package.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import copy_course, FIXTURES, REPO

EX07 = FIXTURES / "course_ex07"
STUB = "ex07_sum_cubes.py"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The repository's course with ex07 added: a stub, a solution and a config block."""
    root = copy_course(tmp_path_factory.mktemp("course") / "course", config=False)
    shutil.copy2(EX07 / "exercises" / STUB, root / "exercises" / STUB)
    shutil.copy2(EX07 / "solutions" / STUB, root / "solutions" / STUB)
    config = (REPO / "config.yaml").read_text("utf-8").rstrip("\n") + "\n\n"
    (root / "config.yaml").write_text(config + (EX07 / "config_block.yaml").read_text("utf-8"), "utf-8")
    return root


def grader(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_COURSE",)}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_package_knows_no_exercise_by_name():
    """Does no code in grader/ branch on a particular exercise (a string that is an exercise id, like "ex06")?

    Docstrings and help texts may use an id as an example; a constant that IS an id means exercise
    knowledge in generic code, which a new exercise would have to edit the package for."""
    exercise_id = re.compile(r"^ex[0-9]+$")
    offenders = []
    for path in sorted((REPO / "grader").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and exercise_id.match(node.value):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert offenders == []


@pytest.mark.slow
def test_check_runs_the_new_exercise(course):
    """Does `grader check ex07` find the new exercise: its stub is 'not started', the solution passes, a wrong
    answer gets torch-style detail without any hint plug-in?"""
    stub = grader("--course", str(course), "check", "ex07", "--lang", "en")
    assert stub.returncode == 1, stub.stderr
    assert "ex07 · The gradient of Σx³" in stub.stdout and "not started" in stub.stdout
    right = grader("--course", str(course), "check", "ex07", "--file", str(EX07 / "submissions/right" / STUB))
    assert right.returncode == 0, right.stdout + right.stderr
    assert "立方和的梯度" in right.stdout and "公开用例 1/1 分；另外 1 分" in right.stdout
    wrong = grader("--course", str(course), "check", "ex07", "--file", str(EX07 / "submissions/wrong" / STUB),
                   "--lang", "en")
    assert wrong.returncode == 1
    assert "✗ x.grad ≈ 3x²" in wrong.stdout
    assert "Mismatched elements" in wrong.stdout and "Greatest absolute difference" in wrong.stdout


@pytest.mark.slow
def test_list_shows_the_new_exercise(course):
    """Does `grader list` list ex07 with its title, points and status?"""
    listing = grader("--course", str(course), "list", "--lang", "en")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert len(lines) == 7
    assert lines[-1].startswith("ex07") and "The gradient of Σx³" in lines[-1] and "2 pts" in lines[-1]


@pytest.mark.slow
def test_grade_gives_the_new_exercise_its_column(course, tmp_path):
    """Does `grader grade` grade ex07 on public and hidden cases and give grades.csv an ex07 column?"""
    submissions = tmp_path / "submissions"
    shutil.copytree(EX07 / "submissions", submissions)
    out = tmp_path / "out"
    graded = grader("--course", str(course), "grade", str(submissions), "-o", str(out), "--jobs", "2")
    assert graded.returncode == 0, graded.stderr
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["submission", "ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07", "total"]
    by_name = {row["submission"]: row for row in rows}
    assert by_name["right"]["ex07"] == "2" and by_name["right"]["total"] == "2"
    assert by_name["wrong"]["ex07"] == "0.67"  # only "y has a grad_fn" holds: 2 points over 3 checks, 0.67 first
    tests = json.loads((out / "right" / "results.json").read_text("utf-8"))["tests"]
    assert {t["name"] for t in tests if t["name"].startswith("ex07")} == {
        "ex07 · y = Σx³", "ex07 · y = Σx³ · hidden cases", "ex07 · y has a grad_fn",
        "ex07 · y has a grad_fn · hidden cases", "ex07 · x.grad ≈ 3x²", "ex07 · x.grad ≈ 3x² · hidden cases"}
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["exercises"]["ex07"]["max_points"] == 2


@pytest.mark.slow
def test_dist_ships_the_new_exercise(course, tmp_path):
    """Does `grader dist` ship ex07's stub and public expected values (not its hidden cases), so that
    `grader check ex07` works in the student copy?"""
    copy = tmp_path / "copy"
    made = grader("--course", str(course), "dist", str(copy))
    assert made.returncode == 0, made.stderr
    assert (copy / "exercises" / STUB).is_file() and not (copy / "solutions").exists()
    student_config = (copy / "config.yaml").read_text("utf-8")
    assert "ex07" in student_config and "vec9_f64" not in student_config
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_COURSE", "PYTHONPATH")}
    checked = subprocess.run([sys.executable, "-m", "grader", "check", "ex07", "--file",
                              str(EX07 / "submissions/right" / STUB)], cwd=copy, env=env,
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.slow
def test_otter_export_carries_the_new_exercise(course, tmp_path):
    """Does `grader export otter` write an otter test file for ex07, one test case per check and case group?"""
    out = tmp_path / "gs"
    exported = grader("--course", str(course), "export", "otter", str(out))
    assert exported.returncode == 0, exported.stderr
    tests = (out / "tests" / "ex07.py").read_text("utf-8")
    for name in ("ex07 · y = Σx³", "ex07 · x.grad ≈ 3x² · hidden cases"):
        assert repr(name) in tests
    assert "def sum_cubes" in (out / "autograd.py").read_text("utf-8")
