"""grader.render: the terminal report and Gradescope's results.json, from real check results."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from grader.core.scoring import point_grid
from grader.render.gradescope import results_json
from grader.render.terminal import render_submission
from grader.core.results import SubmissionResult

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}


@pytest.fixture(scope="module")
def no_zero(check_submission) -> SubmissionResult:
    """ex02 without clearing the gradient: y is right, x.grad is 4x + 1 instead of ones."""
    return SubmissionResult("check", (check_submission("ex02_no_zero", "ex02"),))


@pytest.fixture(scope="module")
def mixed(check_submission) -> SubmissionResult:
    """A submission with a passing, a failing, an unattempted and a crashed exercise."""
    return SubmissionResult("alice", (
        check_submission("correct", "ex01"),
        check_submission("ex02_no_zero", "ex02"),
        check_submission("stubs", "ex04"),
        check_submission("crash", "ex03"),
    ))


def test_terminal_marks_each_check(no_zero, course):
    """Does the terminal report show ✓ for the checks that hold and ✗ for the one that fails?"""
    report = render_submission(no_zero, course.config, "en", color=False)
    marks = [line.strip()[0] for line in report.splitlines()
             if line.startswith("  ") and line.strip()[:1] in ("✓", "✗")]
    checks = no_zero.exercises[0].checks
    assert marks == ["✓" if c.passed else "✗" for c in checks]
    assert "✓" in marks and "✗" in marks


def test_terminal_shows_torch_style_mismatch_detail(no_zero, course):
    """Does the ex02 x.grad failure show how many elements differ (3 of 4 for x = arange(4)) and by how much?"""
    report = render_submission(no_zero, course.config, "en", color=False)
    assert "Mismatched elements: 3 / 4" in report
    assert "Greatest absolute difference" in report
    assert "x.grad.zero_()" in report


def test_terminal_speaks_chinese(no_zero, course):
    """With lang zh, is the same detail worded in Chinese?"""
    report = render_submission(no_zero, course.config, "zh", color=False)
    assert "不一致的元素" in report
    assert "Mismatched elements" not in report
    assert course.config.exercise("ex02").title.text("zh") in report
    assert "y 带有 grad_fn" in report and "has a grad_fn" not in report


@pytest.mark.parametrize("lang, listed", [("en", "y has a grad_fn (hidden cases)"),
                                          ("zh", "y 带有 grad_fn（在计算图中）（隐藏用例）")])
def test_terminal_names_hidden_checks_in_the_students_language(no_zero, course, lang, listed):
    """Is a hidden-case check listed under its name in the chosen language, marked as hidden?"""
    exercise = no_zero.exercises[0]
    hidden = tuple(replace(c, public=False) if c.check_id == "y_graph" else c for c in exercise.checks)
    result = SubmissionResult("check", (replace(exercise, checks=hidden),))
    report = render_submission(result, course.config, lang, color=False)
    assert listed in report


def test_no_ansi_codes_without_color(mixed, course):
    """Is the report free of ANSI escape codes when colour is off, and coloured when it is on?"""
    assert not ANSI.search(render_submission(mixed, course.config, "en", color=False))
    assert ANSI.search(render_submission(mixed, course.config, "en", color=True))


def test_terminal_total_for_several_exercises(mixed, course):
    """Does a report on several exercises (checked on public cases) end with the total of the points its tests
    carry, and of how many in all, the hidden cases deciding the rest?"""
    report = render_submission(mixed, course.config, "en", color=False)
    public = round(sum(c.max_score for e in mixed.exercises for c in e.checks), 2)
    assert 0 < public < mixed.max_score
    last = report.strip().splitlines()[-1]
    assert f"{mixed.score:g}/{public:g} points from public cases" in last, last
    assert f"({mixed.max_score:g} in all)" in last, last


def test_results_json_follows_gradescope_schema(mixed, course):
    """Does results.json have score, max_score, output and tests with Gradescope's keys and consistent points?"""
    document = results_json(mixed, course.config, "en")
    assert {"score", "max_score", "output", "tests"} <= set(document)
    assert document["max_score"] == pytest.approx(sum(course.config.exercise(e.exercise_id).points
                                                      for e in mixed.exercises))
    # `check` runs public cases only: its tests carry grading's public shares (hundredths, from the one grid),
    # and the rest of each exercise's points is what the hidden cases decide.
    public_shares = sum(v for e in mixed.exercises
                        for (_, public), v in point_grid(course.config.exercise(e.exercise_id), True).items() if public)
    assert round(sum(t["max_score"] for t in document["tests"]), 6) == round(public_shares, 6) < document["max_score"]
    assert round(sum(t["score"] for t in document["tests"]), 6) == document["score"]
    assert all(round(t["max_score"] * 100, 9).is_integer() for t in document["tests"])
    assert document["score"] == pytest.approx(mixed.score, abs=1e-9)
    for test in document["tests"]:
        assert TEST_KEYS <= set(test)
        assert test["status"] in ("passed", "failed")
        assert 0 <= test["score"] <= test["max_score"]
        assert isinstance(test["output"], str) and test["output"]


def test_results_json_test_names_start_with_exercise_id(mixed, course):
    """Does every test's name start with its exercise id, one group of tests per exercise?"""
    tests = results_json(mixed, course.config, "en")["tests"]
    names = [t["name"] for t in tests]
    expected_ids = [e.exercise_id for e in mixed.exercises for _ in e.checks]
    assert [name.split(" ")[0] for name in names] == expected_ids
    assert all(name.startswith(exercise_id) for name, exercise_id in zip(names, expected_ids))


def test_results_json_output_carries_the_feedback(mixed, course):
    """Does a failing test's output hold the feedback a student reads (the misconception, the crash)?"""
    tests = results_json(mixed, course.config, "zh")["tests"]
    by_exercise = {}
    for test in tests:
        by_exercise.setdefault(test["name"].split(" ")[0], []).append(test["output"])
    assert any("累积" in output for output in by_exercise["ex02"])
    assert any("尚未作答" in output for output in by_exercise["ex04"])
    assert any("SIGSEGV" in output for output in by_exercise["ex03"])
