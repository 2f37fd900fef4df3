"""Hostile submission names in a real class: they never collide with the run's files, any byte string is a
name, and no name becomes a spreadsheet formula. Each class mixes them with correct classmates, who must
keep full marks."""

from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from pathlib import Path


from helpers import EXERCISES, SUBMISSIONS
from grader.commands.grade import RUN_FILES, GradeOptions, grade_class
from grader.core import records, submission_names, submissions
from grader.render.grades_csv import text_cell

GBK_ZHANG_SAN = "张三".encode("gbk")  # b'\xd5\xc5\xc8\xfd': not UTF-8
GBK_HOMEWORK = "作业".encode("gbk")


def correct_copy(folder: Path) -> Path:
    """A folder holding the correct fixture submission."""
    shutil.copytree(SUBMISSIONS / "correct", folder)
    return folder


def correct_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for exercise in EXERCISES:
            archive.write(SUBMISSIONS / "correct" / exercise.filename, f"hw/{exercise.filename}")
    return path


def correct_notebook(path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell("import torch")]
    cells += [new_code_cell((SUBMISSIONS / "correct" / e.filename).read_text("utf-8")) for e in EXERCISES]
    path.write_bytes(nbformat.writes(new_notebook(cells=cells)).encode("utf-8"))
    return path


def canvas_bulk_zip(path: Path, students: dict[str, str]) -> Path:
    """A Canvas bulk download: per student (name -> user id) the six correct files, Canvas-named."""
    with zipfile.ZipFile(path, "w") as archive:
        for index, (student, user) in enumerate(students.items()):
            for exercise in EXERCISES:
                data = (SUBMISSIONS / "correct" / exercise.filename).read_bytes()
                archive.writestr(f"{student}_{user}_{9000 + index}_{exercise.filename}", data)
    return path


def grade(course, pool, inputs: list[Path], out: Path):
    return grade_class(course, inputs, GradeOptions(out=out, jobs=2, lang="en"), pool)


def grades_rows(out: Path) -> list[list[str]]:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["submission", *(e.id for e in EXERCISES), "total"]
    return rows[1:]


def assert_class_complete(course, report, out: Path, names: list[str]) -> None:
    """Every submission is graded with full marks, has one grades.csv row, its own folder and is in summary.json."""
    points = [e.points for e in course.config.exercises]
    assert sorted(r.name for r in report.records) == sorted(names)
    assert all(r.total == course.config.max_points for r in report.records), [(r.name, r.total) for r in report.records]
    rows = grades_rows(out)
    assert len(rows) == len(names)
    for row in rows:
        assert [float(cell) for cell in row[1:]] == [*points, course.config.max_points], row
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["submissions"] == len(names)
    assert summary["full_marks"] == len(names)
    # One folder per submission, each holding that submission's own record and a full-marks results.json.
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(folders) == len(names)
    owners = []
    for folder in folders:
        assert folder.resolve().parent == out.resolve()
        owners.append(json.loads((folder / records.RECORD_NAME).read_text("utf-8"))["name"])
        assert json.loads((folder / records.RESULTS_NAME).read_text("utf-8"))["score"] == course.config.max_points
    assert sorted(owners) == sorted(names)
    for name in RUN_FILES:
        assert not (out / name).is_dir()


# --------------------------------------------------------------------------- 1. the run's own file names


def test_names_of_the_runs_own_files_get_their_own_folders(tmp_path, course, batch_pool, capsys):
    """grades.csv/, GRADES.CSV/, canvas.csv.zip and summary.json.ipynb are students like any other."""
    class_dir = tmp_path / "submissions"
    correct_copy(class_dir / "alice")
    correct_copy(class_dir / "grades.csv")
    correct_copy(class_dir / "GRADES.CSV")
    correct_copy(class_dir / "_grades.csv")  # an ordinary name that is also grades.csv's safe name
    correct_zip(class_dir / "canvas.csv.zip")
    correct_notebook(class_dir / "summary.json.ipynb")
    correct_copy(class_dir / "zoe")
    names = ["alice", "grades.csv", "GRADES.CSV", "_grades.csv", "canvas.csv", "summary.json", "zoe"]
    out = tmp_path / "out"

    report = grade(course, batch_pool, [class_dir], out)

    assert "Traceback" not in capsys.readouterr().err
    assert_class_complete(course, report, out, names)
    for name in RUN_FILES[:2]:
        assert (out / name).is_file()
    # Ordinary names keep OUT/<name>/; the ordinary _grades.csv keeps its own folder.
    for name in ("alice", "zoe", "_grades.csv"):
        assert json.loads((out / name / records.RECORD_NAME).read_text("utf-8"))["name"] == name
    assert not (out / "canvas.csv").exists()  # no Canvas students: no canvas.csv, and no folder of that name

    again = grade(course, batch_pool, [class_dir], out)
    assert (again.graded, again.resumed) == (0, len(names))
    assert again.records == report.records


def test_result_folders_never_escape_out_nor_take_a_run_file():
    """Only-dots, dot-prefixed, reserved and over-long names each get a distinct, safe folder name."""
    names = [".", "..", "...", ".grades.csv.x1.tmp", "grades.csv", "Summary.JSON", "canvas.csv", "_grades.csv",
             "_grades.csv~2", "张" * 100, "张" * 100 + "x", "alice"]
    found = [submissions.Submission(name, Path(name), submissions.KIND_DIRECTORY) for name in names]
    folders = submission_names.result_folders(found, RUN_FILES)
    assert set(folders) == set(names)
    assert len({f.casefold() for f in folders.values()}) == len(names)
    for name, folder in folders.items():
        assert folder not in ("", ".", "..") and not folder.startswith(".") and "/" not in folder
        assert folder.casefold() not in RUN_FILES
        assert len(folder.encode("utf-8")) <= submission_names.MAX_FOLDER_BYTES
    assert folders["alice"] == "alice" and folders["_grades.csv"] == "_grades.csv"
    assert folders["grades.csv"] not in ("_grades.csv", "_grades.csv~2")


# --------------------------------------------------------------------------- 2. any byte string is a name


def test_any_byte_string_is_a_name(tmp_path, course, batch_pool, capsys):
    """GBK, undecodable bytes, newlines, terminal escapes, names too long to be a folder, dot names from Canvas."""
    class_dir = tmp_path / "submissions"
    class_dir.mkdir()
    root = os.fsencode(class_dir)
    raw_names = {
        GBK_ZHANG_SAN: "张三",
        "张三".encode(): "张三",  # the same student name in UTF-8: shown the same, so one of them gets "~2"
        b"\xff\xfe\xfa": "\\xff\\xfe\\xfa",
        b"two\nlines": "two\\nlines",
        b"\x1b[31mred\x07": "\\x1b[31mred\\x07",
        "长".encode("gbk") * 120: "长" * 120,  # 240 bytes on disk, 360 as UTF-8: too long for a folder
    }
    for raw in raw_names:
        correct_copy(Path(os.fsdecode(root + b"/" + raw)))
    # Files inside a folder whose own name is not UTF-8: the feedback names them readably.
    nested = Path(os.fsdecode(root + b"/nested/" + GBK_HOMEWORK))
    correct_copy(nested)
    correct_copy(class_dir / "alice")
    bulk = canvas_bulk_zip(tmp_path / "canvas.zip", {"...": "1004", "..": "1005", "li\tming": "1006"})
    out = tmp_path / "out"

    report = grade(course, batch_pool, [class_dir, bulk], out)

    err = capsys.readouterr().err
    assert "Traceback" not in err
    names = [*raw_names.values(), "nested", "alice", "..._1004", ".._1005", "li\\tming_1006"]
    names[1] = "张三~2"  # the GBK 张三: the folder named 张三 in UTF-8 is shown as it is, so it keeps the name
    assert_class_complete(course, report, out, names)
    # Every name is printable text: one progress line per submission, no raw control characters.
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert len(progress) == len(names)
    assert not any(ch in err for ch in "\x1b\x07\t")
    assert any(line.endswith(f"张三: {course.config.max_points:g}/{course.config.max_points:g}") for line in progress)
    assert {row[0] for row in grades_rows(out)} == set(names)
    # The summary and every file written are UTF-8 (no surrogates slipped through).
    for path in out.rglob("*"):
        if path.is_file():
            path.read_bytes().decode("utf-8")
        assert os.fsencode(path.name).decode("utf-8")
    # The dot names did not land in OUT's parent or in OUT itself.
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["canvas.csv", "grades.csv", "report.html", "summary.json"]


def test_display_name_is_printable_utf8():
    """Undecodable bytes, control characters and GBK all come out as printable text that encodes as UTF-8."""
    assert submission_names.display_name(GBK_ZHANG_SAN) == "张三"
    assert submission_names.display_name(os.fsdecode(b"\xff")) == "\\xff"
    assert submission_names.display_name("a\r\nb\u2028") == "a\\r\\nb\\u2028"
    assert submission_names.display_name("=cmd") == "=cmd"
    for raw in (b"\x00\x01", b"\xc3", b"\xed\xa0\x80", bytes(range(128, 256))):
        shown = submission_names.display_name(raw)
        assert shown.isprintable() and shown.encode("utf-8")


# --------------------------------------------------------------------------- 3. formulas


FORMULAS = ["=1+2", "+SUM(A1)", "-2", "@cmd", "=HYPERLINK(\"http:x\",\"click\")"]


def test_formula_names_are_neutralised_in_both_csv_files(tmp_path, course, batch_pool, capsys):
    """A name a spreadsheet would run gets a leading ' in grades.csv and canvas.csv; it is shown as is elsewhere."""
    class_dir = tmp_path / "submissions"
    for name in FORMULAS:
        correct_copy(class_dir / name)
    correct_copy(class_dir / "alice")
    bulk = canvas_bulk_zip(tmp_path / "canvas.zip", {"=cmd|'-C calc'!A0": "1007", "wanganna": "1001"})
    out = tmp_path / "out"

    report = grade(course, batch_pool, [class_dir, bulk], out)

    err = capsys.readouterr().err
    assert "Traceback" not in err
    canvas_names = ["=cmd|'-C calc'!A0_1007", "wanganna_1001"]
    names = [*FORMULAS, "alice", *canvas_names]
    assert_class_complete(course, report, out, names)
    hostile = [*FORMULAS, canvas_names[0]]
    cells = {row[0] for row in grades_rows(out)}
    assert cells == {"'" + name for name in hostile} | {"alice", "wanganna_1001"}
    # Shown unchanged on the command line and in the results folders.
    for name in hostile:
        assert f"] {name}: " in err
        assert json.loads((out / name / records.RECORD_NAME).read_text("utf-8"))["name"] == name

    rows = list(csv.reader((out / "canvas.csv").open(newline="", encoding="utf-8")))
    by_id = {row[1]: row for row in rows[2:]}
    assert by_id["1007"][0] == "'=cmd|'-C calc'!A0"
    assert by_id["1001"][0] == "wanganna"
    assert float(by_id["1007"][5]) == float(by_id["1001"][5]) == course.config.max_points


def test_text_cell_prefixes_only_formula_starts():
    for value in ("=a", "+a", "-a", "@a", "\ta", "\ra"):
        assert text_cell(value) == "'" + value
    for value in ("alice", "张三", "'=already", "a=b", "", "1.5"):
        assert text_cell(value) == value
