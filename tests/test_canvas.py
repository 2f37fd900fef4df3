"""Does `grader grade` take Canvas's bulk download, place every file a student handed in, and write a gradebook
Canvas can import, with every student on it?

tests/fixtures/canvas_bulk/members holds a class as Canvas's "Download Submissions" names it: lowercased
lastfirst, late marks in several cases, resubmissions with -1/-2, short file names, a notebook, a zip, a
file that is no exercise, a student with nothing gradable and a member not named by Canvas at all.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from helpers import COURSE, EXERCISES, FIXTURES, REPO, SUBMISSIONS
from grader.core import submissions
from grader.commands.grade import GradeOptions, grade_class
from grader.errors import UsageError

MEMBERS = FIXTURES / "canvas_bulk" / "members"
ALL = tuple(e.id for e in EXERCISES)

# Per Canvas user id: the exercises whose file is a copy of the solution (full marks), and, for a student whose
# file is a known mistake, the folder submission under tests/fixtures/submissions holding the same file.
EXPECTED = {
    "1001": {"full": ALL},                      # wanganna: all six, named like the stubs
    "1002": {"full": ("ex03",)},                # lichen: a wrong ex03, then a late correct resubmission (-1)
    "1003": {"full": ALL},                      # zhaolei: one notebook, marked late
    "1004": {"full": ("ex04",)},                # sunmei: ex04.py, late in capitals, and notes.txt
    "1005": {"full": ("ex05", "ex06")},         # liuyang: a zip holding a folder
    "1006": {"full": ()},                       # zhouping: only a PDF
    "1007": {"full": (), "same_as": "ex02_no_zero"},  # guojing: "Late", resubmitted twice (-2)
}


def bulk_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for member in sorted(MEMBERS.iterdir()):
            archive.write(member, member.name)
        archive.writestr("__MACOSX/._readme.txt", b"\0\5\26\7")  # archive litter, nobody's submission
    return path


def points(exercise_ids) -> float:
    return sum(COURSE.exercise(e).points for e in exercise_ids)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, course, batch_pool):
    """The bulk zip graded once, in English, and the folder-mode twin of the student with a known mistake."""
    tmp = tmp_path_factory.mktemp("canvas")
    out = tmp / "out"
    report = grade_class(course, [bulk_zip(tmp / "submissions.zip")],
                         GradeOptions(out=out, jobs=2, lang="en"), batch_pool)
    twin = tmp / "twin"
    shutil.copytree(SUBMISSIONS / "ex02_no_zero", twin / "ex02_no_zero")
    folder = grade_class(course, [twin], GradeOptions(out=tmp / "twin_out", jobs=1, lang="en"), batch_pool)
    return out, report, {r.name: r for r in folder.records}


def test_every_student_is_grouped_whatever_the_case_of_the_late_mark(tmp_path):
    found = submissions.discover([bulk_zip(tmp_path / "submissions.zip")])
    ids = sorted(s.canvas_id for s in found if s.canvas_id)
    assert ids == sorted(EXPECTED)
    names = {s.canvas_id: s.name for s in found}
    assert names["1007"] == "guojing_1007" and names["1004"] == "sunmei_1004"
    # The member Canvas did not name is a submission of its own, not dropped; the litter is skipped.
    assert [s.name for s in found if not s.canvas_id] == ["readme.txt"]


def test_files_are_placed_as_folder_mode_places_them(tmp_path):
    found = {s.canvas_id: s for s in submissions.discover([bulk_zip(tmp_path / "submissions.zip")])}
    lichen = submissions.read(found["1002"], EXERCISES)
    assert lichen.file("ex03") == (REPO / "solutions" / "ex03_sum_backward.py").read_bytes()  # newest wins
    assert lichen.shown_as("ex03") == "ex03_sum_backward-1.py"
    sunmei = submissions.read(found["1004"], EXERCISES)
    assert sunmei.file("ex04") == (REPO / "solutions" / "ex04_detach.py").read_bytes()
    assert [n.values["file"] for n in sunmei.notes] == ["notes.txt"]
    liuyang = submissions.read(found["1005"], EXERCISES)
    assert liuyang.file("ex06") == (REPO / "solutions" / "ex06_sin_cos.py").read_bytes()
    zhaolei = submissions.read(found["1003"], EXERCISES)
    assert all(zhaolei.file(e.id) for e in EXERCISES)  # the notebook provides every exercise
    zhouping = submissions.read(found["1006"], EXERCISES)
    assert zhouping.problem is not None and zhouping.problem.key == "canvas_nothing_placed"
    assert "homework.pdf" in zhouping.problem.values["files"]


def test_every_student_has_a_row_with_the_right_total(graded):
    out, report, twins = graded
    assert report.graded == len(EXPECTED) + 1  # the unnamed member too
    by_id = {r.canvas_id: r for r in report.records if r.canvas_id}
    assert set(by_id) == set(EXPECTED)
    for user, expected in EXPECTED.items():
        total = points(expected["full"])
        if "same_as" in expected:
            total += twins[expected["same_as"]].total
        assert by_id[user].total == pytest.approx(total, abs=1e-9), user
    assert by_id["1007"].total < points(("ex02",))  # the twin really is a mistake

    rows = list(csv.reader((out / "canvas.csv").open(encoding="utf-8")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COURSE.canvas_assignment]
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == COURSE.max_points
    canvas_rows = {row[1]: row for row in rows[2:]}
    assert set(canvas_rows) == set(EXPECTED)
    assert {user: float(row[5]) for user, row in canvas_rows.items()} == {
        user: pytest.approx(record.total) for user, record in by_id.items()}
    grades = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert len(grades) == len(EXPECTED) + 1


def test_unplaced_files_are_reported_to_the_student_by_name(graded):
    out, report, _ = graded
    folders = {json.loads((p / "results.json").read_text("utf-8"))["output"]: p for p in out.iterdir() if p.is_dir()}
    outputs = "\n".join(folders)
    assert "notes.txt was not graded" in outputs
    assert "None of the files handed in (homework.pdf)" in outputs
    assert "readme.txt in the Canvas download is not named" in outputs


def test_a_zip_that_is_not_canvas_is_refused(tmp_path):
    """A zip of arbitrary names passed as SUBMISSIONS gets one sentence, not an empty grade sheet."""
    with zipfile.ZipFile(tmp_path / "random.zip", "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(UsageError, match="Canvas"):
        submissions.discover([tmp_path / "random.zip"])
