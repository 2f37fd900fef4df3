"""grader.render.canvas_csv: canvas.csv, a gradebook Canvas imports, from grade records."""

from __future__ import annotations

import csv
import io

from grader.core.records import ExerciseRecord, GradeRecord
from grader.render.canvas_csv import canvas_csv


def record(name: str, total: float, canvas_id: str = "") -> GradeRecord:
    exercises = (ExerciseRecord("ex01", total, total, "passed", (), 0.1, 1000),)
    return GradeRecord(name=name, key="k", exercises=exercises, canvas_id=canvas_id)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_header_and_points_possible(course):
    """Are the first two rows Canvas's identifying columns plus the assignment, and its Points Possible row?"""
    written = rows(canvas_csv((), course.config))
    assert written[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", course.config.canvas_assignment]
    assert written[1][0] == "    Points Possible" and written[1][1:5] == ["", "", "", ""]
    assert float(written[1][5]) == course.config.max_points
    assert len(written) == 2


def test_one_row_per_canvas_student(course):
    """Does each Canvas submission get a row keyed by its user id, named without the id, with its total?"""
    records = (record("wanganna_1001", 3.5, "1001"), record("lichen_1002", 0.0, "1002"))
    written = rows(canvas_csv(records, course.config))[2:]
    assert written == [["wanganna", "1001", "", "", "", "3.5"], ["lichen", "1002", "", "", "", "0"]]


def test_submissions_without_a_canvas_id_are_left_out(course):
    """Is a submission that did not come from a Canvas bulk download (no user id) absent, as Canvas could not match it?"""
    written = rows(canvas_csv((record("alice", 2.0), record("bob_7", 1.0, "7")), course.config))[2:]
    assert [row[1] for row in written] == ["7"]
