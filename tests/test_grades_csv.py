"""grader.render.grades_csv: grades.csv from grade records, one row per submission, points as numbers."""

from __future__ import annotations

import csv
import io

import pytest

from grader.core.records import ExerciseRecord, GradeRecord
from grader.render.grades_csv import grades_csv, points

IDS = ("ex01", "ex02", "ex03")


def record(name: str, scores: dict[str, float], **fields) -> GradeRecord:
    exercises = tuple(ExerciseRecord(e, s, 2.0, "passed" if s == 2.0 else "failed", (), 0.1, 1000)
                      for e, s in scores.items())
    return GradeRecord(name=name, key="k", exercises=exercises, **fields)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(("value", "written"), [(2.0, "2"), (1.5, "1.5"), (1 / 3, "0.33"), (0.0, "0"), (14.0, "14")])
def test_points_are_plain_numbers(value, written):
    """Are points written in hundredths (the grading grid) with no trailing zeros, so a spreadsheet reads them as
    numbers?"""
    assert points(value) == written
    assert float(points(value)) == pytest.approx(value, abs=5e-3)


def test_header_names_every_exercise_then_total():
    """Is the header ``submission``, the exercise ids in the order given, then ``total``?"""
    assert rows(grades_csv((), IDS)) == [["submission", *IDS, "total"]]


def test_every_submission_gets_a_row_in_order():
    """Does each record get one row, in the records' order, with its scores and its total?"""
    records = (
        record("alice", {"ex01": 2.0, "ex02": 2.0, "ex03": 2.0}),
        record("bob", {"ex01": 1.0, "ex02": 2 / 3, "ex03": 0.0}),
    )
    written = rows(grades_csv(records, IDS))
    assert [row[0] for row in written[1:]] == ["alice", "bob"]
    assert written[1] == ["alice", "2", "2", "2", "6"]
    assert written[2] == ["bob", "1", "0.67", "0", points(records[1].total)]


def test_missing_exercises_score_zero():
    """Is an exercise a record does not carry (never handed in, unreadable submission) written as 0, not left blank?"""
    written = rows(grades_csv((record("carol", {"ex02": 1.5}, problem="zip_corrupt"),), IDS))
    assert written[1] == ["carol", "0", "1.5", "0", "1.5"]


def test_names_that_need_quoting_survive():
    """Does a submission name with a comma or quote come back unchanged from a CSV reader?"""
    name = 'li, "chen"'
    assert rows(grades_csv((record(name, {"ex01": 2.0}),), IDS))[1][0] == name
