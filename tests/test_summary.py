"""grader.render.summary: summary.json, the class at a glance, from grade records."""

from __future__ import annotations

import json

import pytest

from grader.catalog import en
from grader.core.records import ExerciseRecord, GradeRecord
from grader.i18n import text
from grader.render.summary import PROBLEM_KEYS, TOP_MISCONCEPTIONS, summary_json

LAYERS = {"landlock": True, "seccomp": True}


def exercise(spec, score: float, *misconceptions: str, wall: float = 0.5) -> ExerciseRecord:
    status = "passed" if score == spec.points else "failed"
    return ExerciseRecord(spec.id, score, spec.points, status, misconceptions, wall, 1000)


@pytest.fixture
def first(course):
    return course.config.exercises[0]


@pytest.fixture
def records(course, first):
    """alice passes everything; bob half-passes the first exercise with a mistake; carol's zip is corrupt."""
    full = tuple(exercise(spec, spec.points) for spec in course.config.exercises)
    bob = (exercise(first, first.points / 2, "hint.not_zeroed", "mismatch", wall=1.5),)
    return (
        GradeRecord(name="alice", key="a", exercises=full),
        GradeRecord(name="bob", key="b", exercises=bob),
        GradeRecord(name="carol", key="c", exercises=(), problem="zip_corrupt"),
    )


def test_class_totals(course, records):
    """Are the submission count, mean, median, full marks and unreadable submissions the class's?"""
    summary = summary_json(records, course.config, LAYERS, hidden=True)
    totals = [r.total for r in records]
    assert summary["submissions"] == 3
    assert summary["max_points"] == course.config.max_points
    assert summary["mean_total"] == pytest.approx(sum(totals) / 3, abs=1e-4)
    assert summary["median_total"] == pytest.approx(sorted(totals)[1], abs=1e-4)
    assert summary["full_marks"] == 1
    assert summary["unreadable_submissions"] == ["carol"]
    assert summary["hidden_cases_graded"] is True and summary["sandbox"] == LAYERS


def test_per_exercise_entries(course, records, first):
    """Does each exercise of config.yaml get its title, max points, mean, pass rate, statuses and mean time?"""
    summary = summary_json(records, course.config, LAYERS, hidden=False)
    assert list(summary["exercises"]) == list(course.config.exercise_ids)
    entry = summary["exercises"][first.id]
    assert entry["title"] == {"en": first.title.en, "zh": first.title.zh}
    assert entry["max_points"] == first.points
    assert entry["mean"] == pytest.approx(first.points * 0.75, abs=1e-4)
    assert entry["pass_rate"] == 0.5
    assert entry["statuses"] == {"failed": 1, "passed": 1}
    assert entry["mean_wall_s"] == pytest.approx(1.0)
    last = summary["exercises"][course.config.exercises[-1].id]
    assert last["pass_rate"] == 1.0 and last["statuses"] == {"passed": 1}


def test_problems_are_counted_apart_from_misconceptions(course, records, first):
    """Is a problem such as 'mismatch' listed under problems, never among the autograd misconceptions?"""
    summary = summary_json(records, course.config, LAYERS, hidden=True)
    entry = summary["exercises"][first.id]
    assert entry["problems"] == {"mismatch": 1}
    assert [m["key"] for m in entry["misconceptions"]] == ["hint.not_zeroed"]
    assert [m["key"] for m in summary["misconceptions"]] == ["hint.not_zeroed"]


def test_misconceptions_carry_a_label_in_both_languages(course, records):
    """Is each misconception labelled by the first sentence of its catalogue message, in English and Chinese?"""
    (top,) = summary_json(records, course.config, LAYERS, hidden=True)["misconceptions"]
    assert top["count"] == 1
    for lang in ("en", "zh"):
        assert top[lang] and text("hint.not_zeroed", lang).startswith(top[lang].rstrip(".。"))
        assert len(top[lang]) < len(text("hint.not_zeroed", lang))


def test_only_the_most_common_misconceptions_are_listed(course, first):
    """Are the misconceptions cut to the most common TOP_MISCONCEPTIONS, most common first?"""
    keys = [k for k in en.MESSAGES if k.startswith("hint.")][: TOP_MISCONCEPTIONS + 2]
    assert len(keys) == TOP_MISCONCEPTIONS + 2
    records = tuple(
        GradeRecord(name=f"s{i}", key=str(i), exercises=(exercise(first, 0.0, *keys[: i + 1]),))
        for i in range(len(keys))
    )
    listed = summary_json(records, course.config, LAYERS, hidden=True)["exercises"][first.id]["misconceptions"]
    assert [m["key"] for m in listed] == keys[:TOP_MISCONCEPTIONS]
    assert [m["count"] for m in listed] == sorted((m["count"] for m in listed), reverse=True)


def test_no_submissions(course):
    """Does an empty class give zeros rather than a statistics error, and is the result JSON?"""
    summary = summary_json((), course.config, {}, hidden=False)
    assert (summary["submissions"], summary["mean_total"], summary["median_total"]) == (0, 0.0, 0.0)
    assert all(e["mean"] == 0.0 and e["pass_rate"] == 0.0 for e in summary["exercises"].values())
    json.dumps(summary)


def test_every_problem_key_is_in_the_catalogue():
    """Is each key counted as a problem one the catalogue words (a typo would let it pass as a misconception)?"""
    assert sorted(PROBLEM_KEYS - set(en.MESSAGES)) == []
