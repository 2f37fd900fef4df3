"""grader.render.summary: summary.json, the class at a glance, from grade records."""

from __future__ import annotations

import json
import re

import pytest

from grader.catalog import en
from grader.core.records import ExerciseRecord, GradeRecord
from grader.i18n import text
from grader.render.summary import (PROBLEM_KEYS, TOP_MISCONCEPTIONS, is_problem, misconception_id,
                                   misconception_title, summary_json)

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
    assert [(p["id"], p["count"], p["students"]) for p in entry["problems"]] == [("mismatch", 1, ["bob"])]
    assert [m["key"] for m in entry["misconceptions"]] == ["hint.not_zeroed"]
    assert [m["id"] for m in summary["misconceptions"]] == ["not_zeroed"]


def test_misconceptions_are_named_by_their_instructor_title_in_both_languages(course, records):
    """Is each misconception named by its catalogue title (misconception.<id>), with the students concerned?"""
    (top,) = summary_json(records, course.config, LAYERS, hidden=True)["misconceptions"]
    assert (top["id"], top["count"], top["students"]) == ("not_zeroed", 1, ["bob"])
    for lang in ("en", "zh"):
        assert top[lang] == text("misconception.not_zeroed", lang) and top[lang] != text("hint.not_zeroed", lang)
    assert top["en"] != top["zh"]


@pytest.mark.parametrize("key, mid", [
    ("hint.accumulated_twice", "accumulated_twice"), ("no_grad_fn.call_backward", "no_grad_fn"),
    ("grad_none", "grad_none"), ("banned.cos", "banned_use"), ("accumulated_twice", "accumulated_twice"),
])
def test_misconception_id_follows_the_shared_vocabulary(key, mid):
    """Is a key's id the key without 'hint.' and without what follows its first '.' (and an id its own id)?"""
    assert misconception_id(key) == mid


def test_every_message_key_recorded_today_has_a_title_and_none_is_half_filled(course, first):
    """Do the keys whose messages need parameters ('{k:g}', '{file}, line {line}') get a whole title, with no
    placeholder, no '…' and no 'line' left, in both languages?"""
    keys = [k for k in en.MESSAGES if not k.startswith(("ui.", "plot.", "error.", "watch.", "report.",
                                                         "misconception.", "otter."))]
    records = tuple(GradeRecord(name=f"s{i}", key=str(i), exercises=(exercise(first, 0.0, key),))
                    for i, key in enumerate(keys))
    summary = summary_json(records, course.config, LAYERS, hidden=True)
    entry = summary["exercises"][first.id]
    named = entry["misconceptions"] + entry["problems"]
    assert {e["id"] for e in entry["problems"]} == {misconception_id(k) for k in keys if is_problem(k)}
    untitled = sorted({misconception_id(k) for k in keys} - {k.removeprefix("misconception.") for k in en.MESSAGES})
    assert untitled == [], "give these ids a misconception.<id> title in both catalogues"
    for item in named:
        for lang in ("en", "zh"):
            words = item[lang]
            assert words == text(f"misconception.{item['id']}", lang)
            assert not re.search(r"\{[^{}]*\}|…,|line …|\?", words), words


def test_an_id_without_a_title_is_named_by_a_whole_generic_sentence(course, first):
    """Does an id the catalogue has no title for get a sentence naming the raw id, not a half-filled message?"""
    records = (GradeRecord(name="x", key="x", exercises=(exercise(first, 0.0, "hint.brand_new_mistake"),)),)
    (entry,) = summary_json(records, course.config, LAYERS, hidden=True)["misconceptions"]
    assert entry["id"] == "brand_new_mistake"
    for lang in ("en", "zh"):
        assert entry[lang] == misconception_title("brand_new_mistake", lang)
        assert "brand_new_mistake" in entry[lang] and "{" not in entry[lang]


def test_keys_of_one_id_count_a_student_once(course, first):
    """Are two keys of one misconception in one exercise (no_grad_fn and its call_backward wording) one student?"""
    records = (GradeRecord(name="x", key="x", exercises=(
        exercise(first, 0.0, "no_grad_fn", "no_grad_fn.call_backward"),)),)
    (entry,) = summary_json(records, course.config, LAYERS, hidden=True)["misconceptions"]
    assert (entry["id"], entry["count"], entry["students"]) == ("no_grad_fn", 1, ["x"])


def test_only_the_most_common_misconceptions_are_listed(course, first):
    """Are the misconceptions cut to the most common TOP_MISCONCEPTIONS, most common first?"""
    by_id = {}  # one key per misconception: two wordings of one mistake count as one
    for key in (k for k in en.MESSAGES if k.startswith("hint.")):
        by_id.setdefault(misconception_id(key), key)
    keys = list(by_id.values())[: TOP_MISCONCEPTIONS + 2]
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
