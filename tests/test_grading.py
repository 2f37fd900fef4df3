"""grader.core.scoring through the real pipeline: points follow checks, public and hidden cases, and config.yaml."""

from __future__ import annotations

import dataclasses

import pytest

from grader.core import pipeline, sources
from helpers import EXERCISE_IDS, spec as exercise, SUBMISSIONS
from grader.render.gradescope import results_json
from grader.core.results import SubmissionResult


@pytest.fixture(scope="module")
def plans(course):
    """Every exercise planned with hidden cases, as `grader grade` plans them (one reference run per exercise)."""
    return {p.spec.id: p for p in pipeline.plan(course, EXERCISE_IDS, include_hidden=True)}


def grade(plans, pool, scenario: str, exercise_id: str):
    filename = exercise(exercise_id).filename
    source = sources.read(exercise(exercise_id), SUBMISSIONS / scenario / filename, filename)
    return pipeline.grade_one(plans[exercise_id], source, pool)


def test_plan_includes_hidden_cases(plans, course):
    """Does an instructor's plan run the public and the hidden cases named in config.yaml, public first?"""
    for exercise_id, plan in plans.items():
        config = course.config.exercise(exercise_id)
        assert tuple(c.name for c in plan.cases) == config.public + config.hidden
        assert [c.public for c in plan.cases] == [True] * len(config.public) + [False] * len(config.hidden)


def test_hardcoded_answer_keeps_public_points_and_loses_hidden_ones(plans, pool):
    """Does the hard-coded book answer pass every public check, fail a hidden one, and score between 0 and max?"""
    result = grade(plans, pool, "hardcoded", "ex03")
    public = [c for c in result.checks if c.public]
    hidden = [c for c in result.checks if not c.public]
    assert public and all(c.passed for c in public)
    assert hidden and any(not c.passed for c in hidden)
    assert 0 < result.score < result.max_score
    assert result.score == pytest.approx(sum(c.score for c in result.checks))
    assert result.status == "failed"


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_correct_scores_full_points(plans, pool, exercise_id):
    """Does the reference solution, graded like a student, earn every point of every check, hidden ones included?"""
    result = grade(plans, pool, "correct", exercise_id)
    assert result.status == "passed"
    assert result.score == result.max_score
    assert all(c.passed for c in result.checks)


@pytest.mark.parametrize("include_hidden", [True, False], ids=["with-hidden", "public-only"])
def test_check_points_add_up_to_config_points(course, pool, include_hidden):
    """Do the checks' points (solved or not, hidden cases or not) add up to the exercise's config.yaml points?"""
    planned = pipeline.plan(course, EXERCISE_IDS, include_hidden=include_hidden)
    for plan in planned:
        exercise_id = plan.spec.id
        for scenario in ("correct", "stubs"):
            result = grade({exercise_id: plan}, pool, scenario, exercise_id)
            points = course.config.exercise(exercise_id).points
            assert sum(c.max_score for c in result.checks) == pytest.approx(points)
            assert result.max_score == points
            assert result.score == pytest.approx(sum(c.score for c in result.checks))


def test_hidden_tests_carry_visibility_from_config(plans, pool, course):
    """Do hidden-case tests in results.json carry config.yaml's hidden_visibility, and public ones 'visible'?"""
    result = SubmissionResult("alice", (grade(plans, pool, "hardcoded", "ex03"),))
    for visibility in (course.config.hidden_visibility, "after_published"):
        config = dataclasses.replace(course.config, hidden_visibility=visibility)
        tests = results_json(result, config, "en")["tests"]
        checks = result.exercises[0].checks
        assert len(tests) == len(checks)
        for test, check in zip(tests, checks):
            assert test["visibility"] == ("visible" if check.public else visibility)
        assert any(not check.public for check in checks)


def test_not_submitted_scores_zero(plans, pool, tmp_path):
    """Does a missing exercise file score 0 with status not_submitted, still out of its full points?"""
    filename = exercise("ex03").filename
    source = sources.read(exercise("ex03"), tmp_path / filename, filename)
    result = pipeline.grade_one(plans["ex03"], source, pool)
    assert result.status == "not_submitted"
    assert result.score == 0
    assert result.max_score == plans["ex03"].spec.points
    assert result.problem is not None and result.problem.key == "not_submitted"


def test_crash_in_one_exercise_scores_zero_without_stopping_grading(plans, pool):
    """Does a crashing submission become a scored 0 with an error status, not a crash of the grader?"""
    result = grade(plans, pool, "crash", "ex03")
    assert result.status == "error"
    assert result.score == 0
    assert result.problem is not None and result.problem.key == "crashed"


def test_hard_coded_sizes_are_one_clear_message_on_hidden_cases(plans, pool):
    """The book-sized `x.grad = torch.tensor([0., 2., 4., 6.])` passes the public case; every hidden case fails with
    one and the same hard_coded_size message instead of a raw torch error repeated per case."""
    from helpers import feedback_text

    result = grade(plans, pool, "hardcoded", "ex03")
    hidden = {f.problem for c in result.checks if not c.public for f in c.findings if not f.passed}
    assert len(hidden) == 1 and next(iter(hidden)).key == "hint.hard_coded_size"
    assert "hard_coded_size" in {k.removeprefix("hint.") for k in result.misconceptions}
    for lang, words in (("en", "torch.zeros_like(x)"), ("zh", "torch.zeros_like(x)")):
        text = feedback_text(result, lang)
        assert words in text and "RuntimeError" not in text, text
