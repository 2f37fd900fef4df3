"""Does `grader grade` take Canvas's bulk download and write a gradebook Canvas can import?"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from helpers import EXERCISES, REPO, SUBMISSIONS
from grader.core import submissions
from grader.commands.grade import GradeOptions, grade_class
from grader.errors import UsageError


def canvas_zip(path: Path) -> Path:
    """Three students as Canvas names them: <lastfirst>_<user id>_<submission id>_<their file name>."""
    with zipfile.ZipFile(path, "w") as archive:
        for definition in EXERCISES:  # wanganna hands in all six, named like the stubs
            source = (REPO / "solutions" / definition.filename).read_text()
            archive.writestr(f"wanganna_1001_5001_{definition.filename}", source)
        # lichen names files ex03.py and resubmits ex03: the newer submission id counts.
        archive.writestr("lichen_1002_5002_ex03.py", (SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py").read_text())
        archive.writestr("lichen_LATE_1002_5010_ex03-1.py", (REPO / "solutions" / "ex03_sum_backward.py").read_text())
        archive.writestr("zhaolei_1003_5003_ex01_gradient_4x.py", (SUBMISSIONS / "stubs" / "ex01_gradient_4x.py").read_text())
    return path


def test_bulk_zip_is_grouped_by_student(tmp_path):
    """Each student is one submission named lastfirst_userid, carrying the Canvas user id."""
    found = submissions.discover([canvas_zip(tmp_path / "submissions.zip")])
    assert [(s.name, s.canvas_id) for s in found] == [("lichen_1002", "1002"), ("wanganna_1001", "1001"),
                                                       ("zhaolei_1003", "1003")]
    lichen = submissions.read(found[0], EXERCISES)
    assert lichen.file("ex03") == (REPO / "solutions" / "ex03_sum_backward.py").read_bytes()
    assert lichen.file("ex01") is None


def test_a_zip_that_is_not_canvas_is_refused(tmp_path):
    """A zip of arbitrary names passed as SUBMISSIONS gets one sentence, not an empty grade sheet."""
    with zipfile.ZipFile(tmp_path / "random.zip", "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(UsageError, match="Canvas"):
        submissions.discover([tmp_path / "random.zip"])


def test_canvas_csv_is_ready_for_gradebook_import(course, pool, tmp_path):
    """canvas.csv has Canvas's identifying columns, one assignment column, and a row per student."""
    out = tmp_path / "out"
    report = grade_class(course, [canvas_zip(tmp_path / "submissions.zip")],
                         GradeOptions(out=out, jobs=1, lang="en", timeout=5.0), pool)
    assert report.graded == 3
    rows = list(csv.reader((out / "canvas.csv").open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", course.config.canvas_assignment]
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == course.config.max_points
    by_id = {row[1]: row for row in rows[2:]}
    assert set(by_id) == {"1001", "1002", "1003"}
    assert float(by_id["1001"][5]) == course.config.max_points
    assert float(by_id["1002"][5]) == course.config.exercise("ex03").points
    assert float(by_id["1003"][5]) == 0
    assert by_id["1001"][0] == "wanganna"
