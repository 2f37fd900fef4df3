"""grader.cli: `grader check` end to end, in-process, with exit codes 0 / 1 / 2 and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from helpers import copy_course

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path("tests") / "fixtures" / "submissions"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}


@pytest.fixture
def in_repo(monkeypatch):
    """Run from the repository root, as a student runs from their course folder; English feedback."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    return monkeypatch


def one_line_error(captured) -> str:
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("grader:")
    assert "Traceback" not in captured.err
    return lines[0]


def test_check_correct_file_exits_0(in_repo, capsys):
    """Does `grader check ex03 --file <correct>` pass with exit code 0 and say so?"""
    code = cli.main(["check", "ex03", "--lang", "en", "--file", str(SUBMISSIONS / "correct" / "ex03_sum_backward.py")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "✓ ex03" in out
    assert "✗" not in out


def test_json_of_a_failing_check_exits_1_and_follows_the_schema(in_repo, capsys):
    """Does `--json` on ex03_weighted exit 1 and print a results.json whose failing test names the mistake?"""
    code = cli.main(["check", "ex03", "--json", "--lang", "en",
                     "--file", str(SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py")])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {"score", "max_score", "output", "tests"} <= set(document)
    assert 0 < document["score"] < document["max_score"]
    for test in document["tests"]:
        assert TEST_KEYS <= set(test)
        assert test["name"].startswith("ex03")
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    assert failed and any("weights each element" in t["output"] for t in failed)


def test_unknown_exercise_exits_2_with_one_line(in_repo, capsys):
    """Does `grader check ex09` exit 2 with one 'grader:' line naming the exercise?"""
    code = cli.main(["check", "ex09"])
    assert code == 2
    assert "ex09" in one_line_error(capsys.readouterr())


def test_missing_file_exits_2_with_one_line(in_repo, capsys):
    """Does `--file` on a path that does not exist exit 2 with one 'grader:' line naming the path?"""
    code = cli.main(["check", "ex03", "--file", "nowhere/ex03_sum_backward.py"])
    assert code == 2
    assert "nowhere/ex03_sum_backward.py" in one_line_error(capsys.readouterr())


@pytest.mark.parametrize("argv, expected", [
    (["check", "ex09"], "没有练习 'ex09'"),  # this course's config.yaml says language: zh
    (["check", "ex09", "--lang", "en"], "unknown exercise 'ex09'"),
    (["check", "--file", "mine.py"], "无法判断 mine.py 是哪一道练习"),
    (["check", "ex03", "ex04", "--file", "mine.py", "--lang", "en"], "--file checks one exercise"),
], ids=["unknown-zh", "unknown-en", "which-exercise-zh", "one-file-one-exercise-en"])
def test_usage_errors_speak_the_students_language(in_repo, capsys, argv, expected):
    """Is a mistake on the command line one sentence in the course's language, or --lang's?"""
    assert cli.main(argv) == 2
    assert expected in one_line_error(capsys.readouterr())


@pytest.mark.parametrize("lang_variable, expected", [("zh_CN.UTF-8", "不在课程文件夹中"),
                                                     ("C", "not inside a course folder")])
def test_outside_a_course_the_locale_picks_the_language(tmp_path, in_repo, capsys, lang_variable, expected):
    """With no course (so no config.yaml language), is the 'not in a course folder' sentence in the locale's language?"""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        in_repo.delenv(variable, raising=False)
    in_repo.setenv("LANG", lang_variable)
    in_repo.chdir(tmp_path)
    assert cli.main(["check", "ex03"]) == 2
    assert expected in one_line_error(capsys.readouterr())


def test_plot_writes_a_png_in_the_course(tmp_path, in_repo, capsys):
    """Does `check ex06 --plot` write a PNG into the course folder and print its path?"""
    course = copy_course(tmp_path / "course")
    submission = REPO / SUBMISSIONS / "correct" / "ex06_sin_cos.py"
    code = cli.main(["--course", str(course), "check", "ex06", "--plot", "--file", str(submission)])
    out = capsys.readouterr().out
    assert code == 0, out
    pngs = list(course.rglob("*.png"))
    assert len(pngs) == 1
    assert pngs[0].read_bytes().startswith(PNG_MAGIC)
    assert str(pngs[0]) in out


@pytest.mark.slow
def test_console_script_in_chinese_on_stubs():
    """Does the installed `grader check ex03 --lang zh` on the untouched stub exit 1 and say '尚未作答'?"""
    script = Path(sys.executable).parent / "grader"
    completed = subprocess.run([str(script), "check", "ex03", "--lang", "zh"], cwd=REPO, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 1, completed.stderr
    assert "尚未作答" in completed.stdout
    assert "Traceback" not in completed.stderr
