"""``grader grade`` on whole classes: output files, every submission kind, resume, and the command line."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from helpers import EXERCISES, REPO, SUBMISSIONS
from grader.commands.grade import GradeOptions, grade_class
from grader.errors import UsageError

HEADER = ["submission", "ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "total"]
FILES = {e.id: e.filename for e in EXERCISES}
# bob: one recognisable mistake per exercise (ex05 correct).
BOB = {"ex01": "ex01_double_backward", "ex02": "ex02_no_zero", "ex03": "ex03_weighted",
       "ex04": "ex04_no_detach", "ex05": "correct", "ex06": "ex06_uses_cos"}


def submission_from(folder: Path, picks: dict[str, str]) -> Path:
    """A submission folder holding, per exercise, the file of the named fixture scenario."""
    folder.mkdir(parents=True)
    for exercise_id, scenario in picks.items():
        shutil.copyfile(SUBMISSIONS / scenario / FILES[exercise_id], folder / FILES[exercise_id])
    return folder


def three_students(root: Path) -> Path:
    """alice: the reference; bob: a typical mistake in five exercises; carol: untouched stubs."""
    shutil.copytree(SUBMISSIONS / "correct", root / "alice")
    submission_from(root / "bob", BOB)
    shutil.copytree(SUBMISSIONS / "stubs", root / "carol")
    return root


def grade(course, pool, submissions: Path, out: Path, **options):
    options.setdefault("lang", "en")
    return grade_class(course, [submissions], GradeOptions(out=out, jobs=2, **options), pool)


def csv_rows(out: Path) -> list[dict[str, str]]:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == HEADER
        return list(reader)


def by_name(out: Path) -> dict[str, dict[str, float]]:
    return {row["submission"]: {k: float(v) for k, v in row.items() if k != "submission"} for row in csv_rows(out)}


def results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text("utf-8"))


def tree(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (symbolic links as links): kind, size, mtime, content hash."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
        link = os.readlink(path) if path.is_symlink() else ""
        state[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, digest, link)
    return state


def contents(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def assert_gradescope_schema(document: dict) -> None:
    assert set(document) >= {"score", "max_score", "output", "tests"}
    assert isinstance(document["output"], str)
    total = 0.0
    for test in document["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}, test
        assert test["name"][:4] in FILES, test["name"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert isinstance(test["output"], str) and test["output"]
        assert 0 <= test["score"] <= test["max_score"]
        total += test["score"]
    assert document["score"] == pytest.approx(total, abs=1e-3)
    assert {t["name"][:4] for t in document["tests"]} == set(FILES)


# --------------------------------------------------------------------------- a class of three


@pytest.fixture(scope="module")
def three(tmp_path_factory, course, batch_pool):
    root = tmp_path_factory.mktemp("three")
    submissions = three_students(root / "submissions")
    before = tree(submissions)
    out = root / "out"
    report = grade(course, batch_pool, submissions, out)
    return {"submissions": submissions, "out": out, "report": report, "before": before}


def test_results_json_per_submission_in_gradescope_schema(three, course):
    out = three["out"]
    assert three["report"].graded == 3 and three["report"].resumed == 0
    for name in ("alice", "bob", "carol"):
        document = results(out, name)
        assert_gradescope_schema(document)
        assert document["max_score"] == course.config.max_points
    assert results(out, "alice")["score"] == course.config.max_points
    assert all(t["status"] == "passed" for t in results(out, "alice")["tests"])
    assert results(out, "carol")["score"] == 0
    carol_feedback = "\n".join(t["output"] for t in results(out, "carol")["tests"])
    assert "Not attempted yet" in carol_feedback
    bob_feedback = "\n".join(t["output"] for t in results(out, "bob")["tests"] if t["name"].startswith("ex01"))
    assert "ACCUMULATE" in bob_feedback
    # Hidden-case tests carry the configured visibility.
    assert {t["visibility"] for t in results(out, "alice")["tests"]} == {"visible", course.config.hidden_visibility}


def test_grades_csv_one_row_per_submission(three, course):
    rows = by_name(three["out"])
    assert list(rows) == ["alice", "bob", "carol"]
    points = {e.id: e.points for e in course.config.exercises}
    assert rows["alice"] == {**points, "total": course.config.max_points}
    assert rows["carol"] == {**{e: 0.0 for e in points}, "total": 0.0}
    assert rows["bob"]["ex05"] == points["ex05"]
    for exercise_id in ("ex01", "ex02", "ex03", "ex04", "ex06"):
        assert rows["bob"][exercise_id] < points[exercise_id]
    assert rows["bob"]["total"] == pytest.approx(sum(rows["bob"][e] for e in points), abs=1e-3)
    # The CSV agrees with each results.json.
    for name, row in rows.items():
        assert results(three["out"], name)["score"] == pytest.approx(row["total"], abs=1e-3)


def test_summary_json(three, course):
    summary = json.loads((three["out"] / "summary.json").read_text("utf-8"))
    rows = by_name(three["out"])
    assert summary["submissions"] == 3
    assert set(summary["exercises"]) == set(FILES)
    for exercise in course.config.exercises:
        entry = summary["exercises"][exercise.id]
        assert entry["max_points"] == exercise.points
        assert entry["mean"] == pytest.approx(sum(r[exercise.id] for r in rows.values()) / 3, abs=1e-3)
        passed = sum(1 for r in rows.values() if r[exercise.id] == exercise.points)
        assert entry["pass_rate"] == pytest.approx(passed / 3, abs=1e-3)
    mistakes = {m["key"]: m["count"] for m in summary["exercises"]["ex01"]["misconceptions"]}
    assert mistakes.get("hint.retain_graph_twice") == 1
    assert "cos_outside_backward" in {m["id"] for m in summary["exercises"]["ex06"]["misconceptions"]}
    # Not-attempted is a problem, not an autograd misconception.
    everywhere = {m["key"] for m in summary["misconceptions"]}
    assert "not_attempted" not in everywhere and "hint.not_zeroed" in everywhere
    assert all(isinstance(m["count"], int) and m["count"] >= 1 and m["en"] for m in summary["misconceptions"])


def test_grading_never_writes_into_submissions(three):
    assert tree(three["submissions"]) == three["before"]


def test_out_inside_submissions_is_refused(three, course, batch_pool):
    submissions = three["submissions"]
    before = tree(submissions)
    for out in (submissions / "results", submissions, submissions / "alice" / "graded"):
        with pytest.raises(UsageError, match="inside the submissions folder"):
            grade(course, batch_pool, submissions, out)
    assert tree(submissions) == before


# --------------------------------------------------------------------------- resume


def test_second_run_resumes_and_is_byte_identical(tmp_path, course, batch_pool):
    submissions = three_students(tmp_path / "submissions")
    out = tmp_path / "out"
    first = grade(course, batch_pool, submissions, out)
    written = contents(out)
    stamps = {name: (out / name).stat().st_mtime_ns for name in written}

    second = grade(course, batch_pool, submissions, out)
    assert (second.graded, second.resumed) == (0, 3)
    assert contents(out) == written
    assert second.records == first.records
    # Resumed submissions' files are not even rewritten.
    for name in ("alice", "bob", "carol"):
        for leaf in ("results.json", "grade.json"):
            assert (out / name / leaf).stat().st_mtime_ns == stamps[f"{name}/{leaf}"]

    forced = grade(course, batch_pool, submissions, out, force=True)
    assert (forced.graded, forced.resumed) == (3, 0)
    assert set(contents(out)) == set(written)
    assert (out / "grades.csv").read_bytes() == written["grades.csv"]
    for name in ("alice", "bob", "carol"):
        assert (out / name / "results.json").read_bytes() == written[f"{name}/results.json"]


def test_changing_one_submission_regrades_only_it(tmp_path, course, batch_pool):
    submissions = three_students(tmp_path / "submissions")
    out = tmp_path / "out"
    grade(course, batch_pool, submissions, out)
    before = contents(out)
    shutil.copyfile(SUBMISSIONS / "correct" / FILES["ex03"], submissions / "bob" / FILES["ex03"])

    report = grade(course, batch_pool, submissions, out)
    assert (report.graded, report.resumed) == (1, 2)
    after = contents(out)
    for name in ("alice", "carol"):
        assert after[f"{name}/results.json"] == before[f"{name}/results.json"]
        assert after[f"{name}/grade.json"] == before[f"{name}/grade.json"]
    rows = by_name(out)
    assert rows["bob"]["ex03"] == course.config.exercise("ex03").points
    assert after["grades.csv"] != before["grades.csv"]

    # A new student joins: only the newcomer is graded.
    shutil.copytree(SUBMISSIONS / "correct", submissions / "dan")
    report = grade(course, batch_pool, submissions, out)
    assert (report.graded, report.resumed) == (1, 3)
    assert list(by_name(out)) == ["alice", "bob", "carol", "dan"]


def test_options_that_change_grades_regrade(tmp_path, course, batch_pool):
    submissions = tmp_path / "submissions"
    shutil.copytree(SUBMISSIONS / "correct", submissions / "alice")
    out = tmp_path / "out"
    grade(course, batch_pool, submissions, out, lang="en")
    english = results(out, "alice")["output"]
    report = grade(course, batch_pool, submissions, out, lang="zh")
    assert report.graded == 1
    assert results(out, "alice")["output"] != english


def test_stale_temporary_files_from_a_killed_run_are_swept(tmp_path, course, batch_pool):
    """A run killed inside write_atomic leaves ``.<name>.*.tmp``; the next run removes them."""
    submissions = three_students(tmp_path / "submissions")
    out = tmp_path / "out"
    grade(course, batch_pool, submissions, out)
    stale = [out / ".grades.csv.k1ll3d00.tmp", out / ".summary.json.k1ll3d01.tmp",
             out / "bob" / ".results.json.k1ll3d02.tmp", out / "alice" / ".grade.json.k1ll3d03.tmp"]
    for path in stale:
        path.write_text("{half")
    (out / "bob" / "grade.json").unlink()  # bob was being written when the run died

    report = grade(course, batch_pool, submissions, out)
    assert (report.graded, report.resumed) == (1, 2)
    assert not [p for p in out.rglob("*.tmp")]


# --------------------------------------------------------------------------- submission kinds


PLOT_WITH_MATPLOTLIB = (
    "import math\n"
    "import matplotlib.pyplot as plt\n"
    "\n"
    "xs = torch.arange(0.0, 2 * math.pi, 0.1)\n"
    "dy = sin_derivative(xs.clone())\n"
    "plt.plot(xs, torch.sin(xs), label='sin')\n"
    "plt.plot(xs, dy.detach(), label='d sin / dx (autograd)')\n"
    "plt.plot(xs, torch.cos(xs), '--', label='cos, for comparison')\n"
    "plt.legend()\n"
    "%time dy.sum()\n"
)
# The same comparison without matplotlib: importing it costs ≈2 s in every sandboxed run.
COMPARE_WITH_COS = (
    "import math\n"
    "\n"
    "xs = torch.arange(0.0, 2 * math.pi, 0.1)\n"
    "dy = sin_derivative(xs.clone())\n"
    "print('max |autograd - cos|:', (dy - torch.cos(xs)).abs().max().item())\n"
    "%time dy.sum()\n"
)


def notebook_bytes(plotting_cell: str = COMPARE_WITH_COS) -> bytes:
    """A student's notebook: markdown, magics, the six functions (from solutions/), a cell comparing with cos."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [
        new_markdown_cell("# 2.5 自动微分 / Automatic differentiation"),
        new_code_cell("%matplotlib inline\n!pip install d2l==1.0.3 --quiet\nimport torch"),
    ]
    for exercise in EXERCISES:
        cells.append(new_code_cell((REPO / "solutions" / exercise.filename).read_text("utf-8")))
    cells.append(new_code_cell(plotting_cell))
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                   "language": "python"}})
    return nbformat.writes(notebook).encode("utf-8")


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def kinds(tmp_path_factory, course, batch_pool):
    """One class holding every kind of submission the grader accepts (and a few it must survive)."""
    root = tmp_path_factory.mktemp("kinds")
    submissions = root / "submissions"
    submissions.mkdir()
    correct = {e.filename: (SUBMISSIONS / "correct" / e.filename).read_bytes() for e in EXERCISES}
    # An LMS-style zip: everything nested two folders deep, plus macOS litter.
    members = {f"dave_12345/hw2.5/{name}": data for name, data in correct.items()}
    members["__MACOSX/dave_12345/hw2.5/._ex03_sum_backward.py"] = b"\x00\x05\x16\x07garbage"
    members["dave_12345/hw2.5/notes.txt"] = "我的作业".encode()
    zip_of(submissions / "dave.zip", members)
    (submissions / "x.zip").write_bytes(random.Random(7).randbytes(4096))
    (submissions / "empty").mkdir()
    (submissions / "erin.ipynb").write_bytes(notebook_bytes())
    frank = submissions / "frank"
    frank.mkdir()
    (frank / FILES["ex03"]).symlink_to(REPO / "solutions" / FILES["ex03"])
    shutil.copyfile(SUBMISSIONS / "correct" / FILES["ex01"], frank / FILES["ex01"])
    (submissions / "notes.txt").write_text("not a submission\n")
    (submissions / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    before = tree(submissions)
    out = root / "out"
    report = grade(course, batch_pool, submissions, out)
    return {"submissions": submissions, "out": out, "report": report, "before": before}


def test_every_kind_gets_a_row(kinds):
    assert [r.name for r in kinds["report"].records] == ["dave", "empty", "erin", "frank", "x"]
    assert list(by_name(kinds["out"])) == ["dave", "empty", "erin", "frank", "x"]
    for name in ("dave", "empty", "erin", "frank", "x"):
        assert_gradescope_schema(results(kinds["out"], name))
    summary = json.loads((kinds["out"] / "summary.json").read_text("utf-8"))
    assert summary["submissions"] == 5


def test_zip_with_nested_folders_gets_full_marks(kinds, course):
    document = results(kinds["out"], "dave")
    assert document["score"] == course.config.max_points, document["output"]


def test_corrupt_zip_scores_zero_and_grading_goes_on(kinds):
    rows = by_name(kinds["out"])
    assert rows["x"]["total"] == 0
    document = results(kinds["out"], "x")
    assert "x.zip is not a readable zip archive" in document["output"]
    assert rows["dave"]["total"] > 0 and rows["erin"]["total"] > 0


def test_empty_folder_scores_zero(kinds):
    assert by_name(kinds["out"])["empty"]["total"] == 0
    document = results(kinds["out"], "empty")
    assert "empty" in document["output"]
    assert all(t["status"] == "failed" for t in document["tests"])


def test_notebook_gets_full_marks_and_its_plotting_cos_is_not_flagged(kinds, course):
    document = results(kinds["out"], "erin")
    feedback = "\n".join(t["output"] for t in document["tests"] if t["status"] == "failed")
    assert document["score"] == course.config.max_points, feedback
    ex06 = "\n".join(t["output"] for t in document["tests"] if t["name"].startswith("ex06"))
    assert "cosine" not in ex06 and "WITHOUT cos" not in ex06


def test_symlink_to_solutions_is_not_followed(kinds, course):
    rows = by_name(kinds["out"])
    assert rows["frank"]["ex03"] == 0
    # The student's own regular file next to the link is still graded.
    assert rows["frank"]["ex01"] == course.config.exercise("ex01").points
    ex03 = "\n".join(t["output"] for t in results(kinds["out"], "frank")["tests"] if t["name"].startswith("ex03"))
    assert "Not submitted" in ex03 or "cannot be read" in ex03, ex03


def test_kinds_leave_the_submissions_untouched(kinds):
    assert tree(kinds["submissions"]) == kinds["before"]
    assert sorted(p.name for p in kinds["out"].iterdir()) == [
        "dave", "empty", "erin", "frank", "grades.csv", "report.html", "summary.json", "x"]


@pytest.mark.slow
def test_notebook_that_plots_with_matplotlib_gets_full_marks(tmp_path, course, batch_pool):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "erin.ipynb").write_bytes(notebook_bytes(PLOT_WITH_MATPLOTLIB))
    grade(course, batch_pool, submissions, tmp_path / "out")
    document = results(tmp_path / "out", "erin")
    feedback = "\n".join(t["output"] for t in document["tests"] if t["status"] == "failed")
    assert document["score"] == course.config.max_points, feedback


# --------------------------------------------------------------------------- public-only


def test_public_only_lets_the_hardcoded_answer_through(tmp_path, course, batch_pool):
    submissions = tmp_path / "submissions"
    submission_from(submissions / "hardcoded", {"ex03": "hardcoded"})
    points = course.config.exercise("ex03").points

    public = grade(course, batch_pool, submissions, tmp_path / "public", public_only=True)
    assert public.records[0].score("ex03") == points
    assert by_name(tmp_path / "public")["hardcoded"]["ex03"] == points
    summary = json.loads((tmp_path / "public" / "summary.json").read_text("utf-8"))
    assert summary["hidden_cases_graded"] is False

    full = grade(course, batch_pool, submissions, tmp_path / "full")
    assert full.records[0].score("ex03") < points
    assert by_name(tmp_path / "full")["hardcoded"]["ex03"] < points
    hidden = [t for t in results(tmp_path / "full", "hardcoded")["tests"]
              if t["name"].startswith("ex03") and t["visibility"] != "visible"]
    assert hidden and any(t["status"] == "failed" for t in hidden)


# --------------------------------------------------------------------------- the real command


def grader_command(submissions: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(submissions), "-o", str(out), "--jobs", "2", *extra]


def command_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    return env


@pytest.mark.slow
def test_cli_grade_prints_summary_and_plain_progress(tmp_path):
    submissions = three_students(tmp_path / "submissions")
    out = tmp_path / "out"
    done = subprocess.run(grader_command(submissions, out, "--lang", "en"), cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=command_environment())
    assert done.returncode == 0, done.stderr
    assert "graded 3 submission(s), 0 unchanged since the last run" in done.stdout
    assert str(out) in done.stdout
    progress = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert [line.split(":")[0] for line in progress] == ["[1/3] alice", "[2/3] bob", "[3/3] carol"]
    assert progress[0] == "[1/3] alice: 14/14"
    assert "\x1b[" not in done.stderr  # no terminal control codes when stderr is not a TTY
    assert (out / "grades.csv").is_file()

    again = subprocess.run(grader_command(submissions, out, "--lang", "en"), cwd=REPO, capture_output=True, text=True,
                           timeout=300, env=command_environment())
    assert again.returncode == 0, again.stderr
    assert "graded 0 submission(s), 3 unchanged since the last run" in again.stdout


def thirty_students(root: Path) -> Path:
    mistakes = [BOB, {"ex03": "ex03_weighted"}, {"ex05": "ex05_item", "ex01": "ex01_no_backward"},
                {"ex03": "hardcoded", "ex06": "ex06_autograd_grad"}, {"ex02": "ex02_grad_none", "ex04": "ex04_detach_after"}]
    for index in range(30):
        name = f"student{index:02d}"
        if index % 6 == 5:
            submission_from(root / name, mistakes[(index // 6) % len(mistakes)])
        else:
            shutil.copytree(SUBMISSIONS / "correct", root / name)
    return root


def _parents() -> dict[int, int]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path("/proc", entry, "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z":
                table[int(entry)] = int(fields[1])
    return table


def descendants(pid: int) -> set[int]:
    table, found, frontier = _parents(), set(), {pid}
    while frontier:
        frontier = {child for child, parent in table.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies count as gone)."""
    return pids & set(_parents())


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    submissions = thirty_students(tmp_path / "submissions")
    before = tree(submissions)
    env = command_environment()

    reference_out = tmp_path / "uninterrupted"
    done = subprocess.run(grader_command(submissions, reference_out), cwd=REPO, capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr

    out = tmp_path / "interrupted"
    victim = subprocess.Popen(grader_command(submissions, out), cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 300
    try:
        while len(list(out.glob("*/grade.json"))) < 5:
            assert victim.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.005)
        workers = descendants(victim.pid)
        victim.send_signal(signal.SIGKILL)
    finally:
        victim.kill()
        victim.wait()
    # The killed grader's zygotes and sandboxed children go with it.
    assert workers, "the grader had started no workers"
    deadline = time.monotonic() + 15
    while alive(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(workers), f"left behind by a killed grader: {alive(workers)}"
    interrupted_at = len(list(out.glob("*/grade.json")))
    assert 5 <= interrupted_at < 30, "kill the run while it is still grading"
    assert not (out / "grades.csv").exists()

    resumed = subprocess.run(grader_command(submissions, out), cwd=REPO, capture_output=True, text=True,
                             timeout=600, env=env)
    assert resumed.returncode == 0, resumed.stderr
    # Everything with a grade.json at the kill was kept (at least those; more may have finished meanwhile).
    unchanged = int(resumed.stdout.split("graded ")[1].split(" submission(s), ")[1].split(" unchanged")[0])
    assert unchanged >= interrupted_at

    assert (out / "grades.csv").read_bytes() == (reference_out / "grades.csv").read_bytes()
    for index in range(30):
        name = f"student{index:02d}"
        assert (out / name / "results.json").read_bytes() == (reference_out / name / "results.json").read_bytes()
        record = json.loads((out / name / "grade.json").read_text("utf-8"))
        assert record["name"] == name
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert tree(submissions) == before


def test_a_worker_failure_is_not_recorded_as_final(course, tmp_path):
    """If the grader itself fails (here: a real child whose sandbox cannot be entered, every time), the
    submission is reported as the grader's failure, not marked done: a rerun regrades it."""
    import dataclasses

    from grader.core import records
    from grader.runner.pool import Pool

    class BrokenSandboxPool(Pool):
        """A real pool whose children are told to read a path that does not exist: sandbox.enter fails
        before any student code runs, as a layer failing on a misconfigured machine would."""

        def _session(self, requests):
            missing = str(tmp_path / "no-such-path")
            return super()._session([dataclasses.replace(r, readable=(missing,)) for r in requests])

    submissions_dir = tmp_path / "subs"
    shutil.copytree(SUBMISSIONS / "correct", submissions_dir / "alice")
    out = tmp_path / "out"
    with BrokenSandboxPool(jobs=1) as broken:
        report = grade_class(course, [submissions_dir], GradeOptions(out=out, jobs=1, lang="en", timeout=3.0), broken)
    assert report.records[0].total == 0
    assert (out / "alice" / records.RESULTS_NAME).is_file()
    assert not (out / "alice" / records.RECORD_NAME).exists()
    assert "not your fault" in (out / "alice" / records.RESULTS_NAME).read_text()
    assert report.grader_failures == ("alice",)
    assert json.loads((out / "summary.json").read_text())["grader_failures"] == ["alice"]
    with Pool(jobs=1) as pool:
        again = grade_class(course, [submissions_dir], GradeOptions(out=out, jobs=1, lang="en", timeout=3.0), pool)
    assert again.graded == 1 and again.records[0].total == course.config.max_points
    assert again.grader_failures == () and json.loads((out / "summary.json").read_text())["grader_failures"] == []


def test_grader_failures_are_loud_on_the_command_line(course, tmp_path, monkeypatch, capsys):
    """Does `grade` name the submissions it failed on through its own fault and exit with its own code (3)?"""
    import dataclasses

    from grader.cli import main
    from grader.commands import grade as grade_command
    from grader.commands.exit_codes import EXIT_GRADER_FAILED

    class BrokenSandboxPool(grade_command.Pool):
        def _session(self, requests):
            return super()._session([dataclasses.replace(r, readable=(str(tmp_path / "gone"),)) for r in requests])

    submissions_dir = tmp_path / "subs"
    shutil.copytree(SUBMISSIONS / "correct", submissions_dir / "alice")
    shutil.copytree(SUBMISSIONS / "stubs", submissions_dir / "bob")
    monkeypatch.setattr(grade_command, "Pool", BrokenSandboxPool)
    code = main(["--course", str(REPO), "grade", str(submissions_dir), "-o", str(tmp_path / "out"), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == EXIT_GRADER_FAILED == 3
    assert "failed on 2 submission(s)" in err and "alice, bob" in err and "run the same grade command again" in err
    assert "Traceback" not in err


def test_a_changed_submission_is_read_once_on_resume(tmp_path, course, batch_pool, monkeypatch):
    """On a resumed run, is a submission whose files changed read once (for its key, then graded from that
    read), and an unchanged one read once (for its key only)?"""
    from grader.core import submissions as submissions_module

    root = three_students(tmp_path / "subs")
    grade(course, batch_pool, root, tmp_path / "out")
    shutil.copy(SUBMISSIONS / "correct" / FILES["ex03"], root / "bob" / FILES["ex03"])  # bob fixes ex03
    reads: list[str] = []
    real_read = submissions_module.read

    def counting_read(submission, exercises):
        reads.append(submission.name)
        return real_read(submission, exercises)

    monkeypatch.setattr(submissions_module, "read", counting_read)
    report = grade(course, batch_pool, root, tmp_path / "out")
    assert report.graded == 1 and report.resumed == 2
    assert sorted(reads) == ["alice", "bob", "carol"]


def test_sources_are_parsed_in_one_thread_only(tmp_path, course, batch_pool, monkeypatch):
    """CPython 3.11's parser fails ("AST constructor recursion depth mismatch") when threads parse at once, so
    grade parses every submission in its own thread and only runs and compares in the workers."""
    import threading

    from grader.core import sources

    threads: set[str] = set()
    original = sources.from_bytes

    def recording(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(sources, "from_bytes", recording)
    folder = tmp_path / "class"
    for name in ("correct", "ex03_weighted", "ex02_no_zero"):
        shutil.copytree(SUBMISSIONS / name, folder / name)
    report = grade_class(course, [folder], GradeOptions(out=tmp_path / "out", jobs=2, lang="en"), batch_pool)
    assert report.graded == 3
    assert threads == {threading.current_thread().name}
