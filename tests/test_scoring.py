"""grader.core.scoring: every score on a grid of hundredths, apportioned once, the same in check and grade."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from grader.cli import main
from grader.commands import check as checking
from grader.core.config import load_config
from grader.core.course import find_course
from grader.core.scoring import GRID, point_grid
from grader.render.terminal import render_submission
from helpers import COURSE, FIXTURES, REPO, SUBMISSIONS, copy_course

EX07 = FIXTURES / "course_ex07"
EX07_STUB = "ex07_sum_cubes.py"


def _hundredths(value: float) -> Decimal:
    """``value`` as the Decimal it prints as; it must be a whole number of hundredths."""
    exact = Decimal(repr(value))
    assert exact == exact.quantize(Decimal("0.01")), value
    return exact


@pytest.fixture(scope="module")
def ex07_course(tmp_path_factory) -> Path:
    """The repository's course plus ex07 (three checks: an odd number), and an ex08 with awkward numbers:
    1 point over three checks, 30 % of it on hidden cases."""
    root = copy_course(tmp_path_factory.mktemp("course") / "course", config=False)
    for folder in ("exercises", "solutions"):
        shutil.copy2(EX07 / folder / EX07_STUB, root / folder / EX07_STUB)
        shutil.copy2(EX07 / folder / EX07_STUB, root / folder / "ex08_sum_cubes_again.py")
    raw = yaml.safe_load((REPO / "config.yaml").read_text("utf-8"))
    ex07 = yaml.safe_load((EX07 / "config_block.yaml").read_text("utf-8"))["ex07"]
    raw["exercises"]["ex07"] = ex07
    raw["exercises"]["ex08"] = {**ex07, "file": "ex08_sum_cubes_again.py", "function": "sum_cubes_again",
                                "points": 1, "hidden_weight": 0.3}
    for folder in ("exercises", "solutions"):
        again = root / folder / "ex08_sum_cubes_again.py"
        again.write_text(again.read_text("utf-8").replace("def sum_cubes(", "def sum_cubes_again("), "utf-8")
    (root / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    return root


def _specs(root: Path):
    return load_config(root / "config.yaml").exercises


def test_the_parts_of_every_exercise_add_up_to_its_points_exactly(ex07_course):
    """With and without hidden cases, is every part a whole number of hundredths, do the parts add up to the
    exercise's points as Decimals (no 1.9999), and are the checks' own totals within a hundredth of each other?"""
    specs = _specs(ex07_course)
    assert {"ex07", "ex08"} <= {s.id for s in specs}
    assert any(len(s.checks) % 2 == 1 for s in specs)
    for spec in specs:
        for hidden in (True, False):
            grid = point_grid(spec, hidden)
            parts = [_hundredths(v) for v in grid.values()]
            assert sum(parts) == Decimal(repr(float(spec.points))).quantize(Decimal("0.01")), (spec.id, grid)
            assert all(part >= 0 for part in parts)
            assert grid == point_grid(spec, hidden)  # deterministic
            scored = [c for c in spec.checks if c.kind != "autograd_only"]
            per_check = [sum(_hundredths(grid[k]) for k in grid if k[0] == c.id) for c in scored]
            if len({c.kind for c in spec.checks}) == 1:  # equal shares: within one hundredth of each other
                assert max(per_check) - min(per_check) <= Decimal("0.01"), (spec.id, grid)


def test_an_odd_split_follows_the_hidden_weight(ex07_course):
    """ex08: 1 point over three checks with hidden_weight 0.3: is each check's hidden part about 30 % of it?"""
    spec = next(s for s in _specs(ex07_course) if s.id == "ex08")
    grid = point_grid(spec, hidden=True)
    for check in spec.checks:
        whole = grid[(check.id, True)] + grid[(check.id, False)]
        assert grid[(check.id, False)] == pytest.approx(0.3 * whole, abs=1 / GRID)


def _grade(root: Path, submission: Path, out: Path) -> dict:
    """grade one submission folder; its results.json, grades.csv row and summary.json."""
    subs = out.parent / (out.name + "-in")
    shutil.copytree(submission, subs / submission.name)
    assert main(["--course", str(root), "grade", str(subs), "-o", str(out), "--jobs", "1", "--lang", "en"]) in (0, 1)
    with open(out / "grades.csv", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    return {"results": json.loads((out / submission.name / "results.json").read_text("utf-8")), "row": row,
            "summary": json.loads((out / "summary.json").read_text("utf-8"))}


@pytest.mark.parametrize("root_name, scenario, exercise_id", [
    ("repo", "ex03_weighted", "ex03"),      # two of three checks hold
    ("ex07", "wrong", "ex07"),             # an odd number of checks, one holds
])
def test_check_and_grade_give_the_same_points_for_the_same_outcome(ex07_course, pool, tmp_path, root_name,
                                                                   scenario, exercise_id):
    """Does every public test carry the same points in `check` as in `grade` (results.json, grades.csv), does
    `check`'s score equal grade's public part, and does `check` say how much the hidden cases decide?"""
    root = REPO if root_name == "repo" else ex07_course
    course = find_course(root)
    spec = course.config.exercise(exercise_id)
    folder = SUBMISSIONS / scenario if root_name == "repo" else EX07 / "submissions" / scenario
    checked = checking.check(course, (exercise_id,), {exercise_id: folder / spec.filename}, pool).result
    result = checked.exercises[0]
    graded = _grade(root, folder, tmp_path / "out")

    tests = {t["name"]: t for t in graded["results"]["tests"] if t["name"].startswith(exercise_id + " ")}
    public = {name: t for name, t in tests.items() if not name.endswith("· hidden cases")}
    assert {c.name for c in result.checks} == set(public)
    for check in result.checks:
        assert check.score == public[check.name]["score"] and check.max_score == public[check.name]["max_score"]
    assert _hundredths(result.score) == sum(_hundredths(t["score"]) for t in public.values())
    assert 0 < result.score < result.max_score
    graded_score = sum(_hundredths(t["score"]) for t in tests.values())
    assert Decimal(graded["row"][exercise_id]) == graded_score
    assert sum(_hundredths(t["max_score"]) for t in tests.values()) == _hundredths(float(spec.points))

    hidden_part = float(sum(_hundredths(t["max_score"]) for name, t in tests.items() if name not in public))
    public_part = float(sum(_hundredths(t["max_score"]) for t in public.values()))
    for lang, words in (("en", f"/{public_part:g} points from public cases; hidden cases decide the other "
                               f"{hidden_part:g} when your instructor grades ({spec.points:g} in all)"),
                        ("zh", f"/{public_part:g} 分；另外 {hidden_part:g} 分由老师评分时的隐藏用例决定"
                               f"（满分 {spec.points:g}）")):
        head = render_submission(checked, course.config, lang).splitlines()[0]
        assert f"{result.score:g}{words}" in head, head
        assert f"{spec.points:g}/{spec.points:g}" not in head


def test_a_correct_check_does_not_claim_full_marks(course, pool):
    """`check` on a correct file: every public test passes, and the header says the hidden cases decide the
    rest instead of "2/2 points"."""
    spec = course.config.exercise("ex03")
    checked = checking.check(course, ("ex03",), {"ex03": SUBMISSIONS / "correct" / spec.filename}, pool).result
    result = checked.exercises[0]
    assert result.status == "passed" and all(c.passed for c in result.checks)
    grid = point_grid(spec, hidden=True)
    assert _hundredths(result.score) == sum(_hundredths(v) for (_, public), v in grid.items() if public)
    head = render_submission(checked, course.config, "en").splitlines()[0]
    assert "2/2 points" not in head
    # ex03: 2 points, three checks, half of each on hidden cases: the halves come to 1 and 1.
    assert "1/1 points from public cases; hidden cases decide the other 1 when your instructor grades (2 in all)" in head
    assert "公开用例 1/1 分；另外 1 分由老师评分时的隐藏用例决定（满分 2）" in render_submission(checked, course.config, "zh")


def test_an_exercise_without_hidden_cases_keeps_all_its_points_in_check(tmp_path, pool):
    """An exercise whose config lists no hidden cases: `check` gives a correct file all its points, worded
    plainly (nothing is left for hidden cases to decide)."""
    root = copy_course(tmp_path / "course")
    raw = yaml.safe_load((root / "config.yaml").read_text("utf-8"))
    raw["exercises"]["ex03"].pop("hidden", None)
    (root / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    course = find_course(root)
    spec = course.config.exercise("ex03")
    checked = checking.check(course, ("ex03",), {"ex03": SUBMISSIONS / "correct" / spec.filename}, pool).result
    assert checked.exercises[0].score == spec.points
    head = render_submission(checked, course.config, "en").splitlines()[0]
    assert f"{spec.points:g}/{spec.points:g} points" in head and "hidden" not in head


def test_a_student_copy_keeps_the_hidden_share_it_cannot_run(tmp_path, pool):
    """In `grader dist`'s copy (no hidden case lists, no solutions), does `check` still leave the hidden share
    to grading, with the same points as the instructor's `check`?"""
    copy = tmp_path / "copy"
    assert main(["--course", str(REPO), "dist", str(copy)]) == 0
    spec = COURSE.exercise("ex03")
    path = SUBMISSIONS / "ex03_weighted" / spec.filename
    in_copy = checking.check(find_course(copy), ("ex03",), {"ex03": path}, pool).result.exercises[0]
    in_repo = checking.check(find_course(REPO), ("ex03",), {"ex03": path}, pool).result.exercises[0]
    assert [dataclasses.astuple(c)[:7] for c in in_copy.checks] == [dataclasses.astuple(c)[:7] for c in in_repo.checks]
    assert in_copy.score == in_repo.score < spec.points / 2
