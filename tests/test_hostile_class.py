"""The hostile-class acceptance test: every hostile input mixed into ONE class with correct submissions.

"Every input below, mixed into one class with correct submissions, gives a complete grades.csv (a row
each, correct ones with full marks), one sentence per bad input, no traceback, and the parent's peak
memory within 2x an ordinary run's."

The class (built in a world-writable arena under /tmp, like conftest's ``arena``) holds correct copies
of tests/fixtures/submissions/correct (alice, bob, carol, and correct code under hostile names) and one
submission per hostile input (tests/fixtures/hostile/, completed with the correct files):

1. forged result frames written by the child itself on the events pipe (a 400-digit integer as a
   number; a tensor whose shape product overflows int64, as real tensor bytes and as metadata only);
2. a ~60 MB frame of twenty million ``{}``;
3. names: ``grades.csv``, ``summary.json``, a GBK folder name, names starting with ``= + - @``;
4. 1,100 nested folders (an exercise file at depth 3 and one at the bottom);
5. an ex03 printing its input with all digits on every call (hidden cases too) and failing a public check;
6. a 15 MB notebook (huge markdown and output cells, the six correct functions in code cells).

That class is graded once through the command line (``python -m grader grade``) as a subprocess whose
peak RSS (VmHWM) is sampled, and so is the same class without the hostile submissions. Two more runs
stand apart: OUT on a 3 MiB tmpfs that fills up (7), and ``kill -9`` of a running ``grade`` (8).

Points always come from ``course.config``; nothing here types a score.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import EXERCISES, FIXTURES, REPO, SUBMISSIONS, children_of, process_gone, wait_for
from grader.core.cases import build_cases

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox and /proc are Linux's")

HOSTILE = FIXTURES / "hostile"
FILES = {e.id: e.filename for e in EXERCISES}
HOSTILE_EXERCISE = "ex03"
GBK_NAME = "张三".encode("gbk")  # b'\xd5\xc5\xc8\xfd': not UTF-8; shown as 张三
DEEP_LEVELS = 1100
DEEP_SHALLOW = 3
DEEP_BOTTOM_EXERCISE = "ex06"
"""The deep submission: ex01-ex05 at depth 3, ex06 at the bottom of the 1,100 folders."""
NOTEBOOK_NAME = "!huge_notebook"
"""Sorted first in the class, so the first progress line is the notebook's (see test 6)."""
NOTEBOOK_BYTES = 15_000_000
NOTEBOOK_SECONDS = 10.0
CLI_TIMEOUT = 900

# Correct code under ordinary names, and under hostile ones (item 3): all must get full marks.
CORRECT = ("alice", "bob", "carol")
NAMED = {"grades.csv": "grades.csv", "summary.json": "summary.json", GBK_NAME: "张三",
         "=cmd": "=cmd", "+sum": "+sum", "-neg": "-neg", "@at": "@at"}
FORGED = ("forged_number", "forged_tensor", "forged_shape")
FLOOD = "flood"
PRINTER = "printer"
DEEP = "deep"
FORMULA_STARTS = ("=", "+", "-", "@")


# --------------------------------------------------------------------------- plumbing: building the class


def make_arena() -> Path:
    """Like conftest's ``arena`` (world-writable, outside pytest's 0700 tree), for module-scoped fixtures."""
    base = Path(tempfile.mkdtemp(prefix="grader-arena-"))
    os.chmod(base, 0o777)
    return base


def correct_copy(folder: Path) -> Path:
    shutil.copytree(SUBMISSIONS / "correct", folder)
    return folder


def hostile_copy(folder: Path, fixture: str) -> Path:
    """A whole submission: the correct files, with tests/fixtures/hostile/<fixture>'s files over them."""
    correct_copy(folder)
    for source in sorted((HOSTILE / fixture).glob("*.py")):
        shutil.copyfile(source, folder / source.name)
    return folder


def deep_chain(root: Path) -> list[Path]:
    """The 1,100 nested folders of the deep submission, outermost first (made one mkdir at a time:
    os.makedirs recurses once per level and would hit Python's recursion limit itself)."""
    return [root / "/".join(["d"] * level) for level in range(1, DEEP_LEVELS + 1)]


def make_deep(root: Path) -> None:
    root.mkdir()
    chain = deep_chain(root)
    for folder in chain:
        os.mkdir(folder)
    for exercise in EXERCISES:
        target = chain[DEEP_SHALLOW - 1] if exercise.id != DEEP_BOTTOM_EXERCISE else chain[-1]
        shutil.copyfile(SUBMISSIONS / "correct" / exercise.filename, target / exercise.filename)


def remove_deep(root: Path) -> None:
    """Undo make_deep bottom-up (shutil.rmtree recurses once per level, holding a descriptor each)."""
    if not root.exists():
        return
    for folder in reversed(deep_chain(root)):
        try:
            for entry in os.listdir(folder):
                if entry != "d":
                    os.unlink(folder / entry)
            os.rmdir(folder)
        except FileNotFoundError:
            pass
    shutil.rmtree(root, ignore_errors=True)


def notebook_bytes(size: int) -> bytes:
    """A notebook of about ``size`` bytes: a huge markdown cell, a code cell with a huge output, the six
    correct functions in code cells."""
    data = _notebook(1000)
    lines = int(1000 * (size - len(data)) / (len(_notebook(2000)) - len(data))) + 1000
    return _notebook(lines)


def _notebook(lines: int) -> bytes:
    """The notebook with ``lines`` lines in each of its huge cells."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    # Many short lines, as a real notebook's long output is: Jupyter (and nbformat) store each line as an item.
    filler = "step 1000: loss 0.6931, grad norm 1.2345\n" * lines
    cells = [new_markdown_cell("# 2.5 Automatic differentiation\n\n" + filler), new_code_cell("import torch")]
    cells += [new_code_cell((SUBMISSIONS / "correct" / e.filename).read_text("utf-8")) for e in EXERCISES]
    printed = new_code_cell("# the training log, kept in the notebook's output",
                            outputs=[new_output("stream", name="stdout", text=filler)])
    cells.append(printed)
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                   "language": "python"}})
    return nbformat.writes(notebook).encode("utf-8")


def build_hostile_class(submissions: Path) -> dict[str, str]:
    """Every input of the issue in one folder; returns {display name: role}."""
    submissions.mkdir()
    roles: dict[str, str] = {}
    for name in CORRECT:
        correct_copy(submissions / name)
        roles[name] = "correct"
    root = os.fsencode(submissions)
    for raw, shown in NAMED.items():
        raw_bytes = raw if isinstance(raw, bytes) else raw.encode()
        correct_copy(Path(os.fsdecode(root + b"/" + raw_bytes)))
        roles[shown] = "correct"
    for name in (*FORGED, FLOOD, PRINTER):
        hostile_copy(submissions / name, name)
        roles[name] = name
    make_deep(submissions / DEEP)
    roles[DEEP] = DEEP
    (submissions / f"{NOTEBOOK_NAME}.ipynb").write_bytes(notebook_bytes(NOTEBOOK_BYTES))
    roles[NOTEBOOK_NAME] = "notebook"
    return roles


def build_correct_class(submissions: Path, names=CORRECT) -> dict[str, str]:
    submissions.mkdir()
    for name in names:
        correct_copy(submissions / name)
    return {name: "correct" for name in names}


# --------------------------------------------------------------------------- plumbing: the command line


@dataclass
class CliRun:
    """One ``python -m grader grade`` subprocess, watched from outside."""

    returncode: int
    stdout: str
    stderr: str
    lines: list[tuple[float, str]]
    """Every stderr line with the monotonic time it arrived."""
    peak_kb: int
    """The grading process's VmHWM (peak resident set), sampled from /proc/<pid>/status."""
    cpu: list[tuple[float, float]] = field(default_factory=list)
    """(monotonic time, the grading process's own CPU seconds so far), as sampled."""
    pid: int = 0

    def line_time(self, predicate) -> float | None:
        return next((t for t, line in self.lines if predicate(line)), None)

    def cpu_at(self, moment: float) -> float:
        before = [c for t, c in self.cpu if t <= moment]
        return before[-1] if before else 0.0


def cli_command(submissions: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "--course", str(REPO), "grade", str(submissions), "-o", str(out),
            "--jobs", "2", "--lang", "en", *extra]


def cli_environment(**overrides: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update(overrides)
    return env


def _status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _own_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Watched:
    """A started CLI subprocess whose stderr lines, VmHWM and CPU are collected by threads."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[tuple[float, str]] = []
        self.out: list[str] = []
        self.peak_kb = 0
        self.cpu: list[tuple[float, float]] = []
        self._threads = [threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._sample, daemon=True)]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read_err(self) -> None:
        for raw in self.process.stderr:
            self.lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))

    def _read_out(self) -> None:
        for raw in self.process.stdout:
            self.out.append(raw.decode("utf-8", "replace"))

    def _sample(self) -> None:
        pid = self.process.pid
        while self.process.poll() is None:
            peak = _status_kb(pid, "VmHWM")
            if peak is not None:
                self.peak_kb = max(self.peak_kb, peak)
            cpu = _own_cpu_seconds(pid)
            if cpu is not None:
                self.cpu.append((time.monotonic(), cpu))
            time.sleep(0.02)

    def wait(self, timeout: float = CLI_TIMEOUT) -> CliRun:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"grade did not finish in {timeout} s: {self.stderr_tail()}")
        for thread in self._threads:
            thread.join(timeout=30)
        return CliRun(self.process.returncode, "".join(self.out), "\n".join(line for _, line in self.lines),
                      list(self.lines), self.peak_kb, list(self.cpu), self.process.pid)

    def stderr_tail(self, count: int = 15) -> str:
        return "\n".join(line for _, line in self.lines[-count:])


def run_cli(submissions: Path, out: Path, *extra: str, **env: str) -> CliRun:
    return Watched(cli_command(submissions, out, *extra), cli_environment(**env)).wait()


# --------------------------------------------------------------------------- plumbing: reading OUT


def points(course) -> dict[str, float]:
    return {e.id: e.points for e in course.config.exercises}


def csv_cell(name: str) -> str:
    """How grades.csv shows a name: a would-be formula with a leading ' (CSV injection)."""
    return "'" + name if name.startswith(FORMULA_STARTS) else name


def grades_rows(out: Path) -> dict[str, dict[str, float]]:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["submission", *FILES, "total"], reader.fieldnames
        rows = list(reader)
    table = {row["submission"]: {k: float(v) for k, v in row.items() if k != "submission"} for row in rows}
    assert len(table) == len(rows), "two grades.csv rows with the same name"
    return table


def folders_by_name(out: Path) -> dict[str, Path]:
    """{submission name: its folder under OUT}, from each folder's own grade.json."""
    found = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        record = folder / "grade.json"
        if record.is_file():
            found[json.loads(record.read_text("utf-8"))["name"]] = folder
    return found


def record(out: Path, name: str) -> dict:
    return json.loads((folders_by_name(out)[name] / "grade.json").read_text("utf-8"))


def results(out: Path, name: str) -> dict:
    return json.loads((folders_by_name(out)[name] / "results.json").read_text("utf-8"))


def exercise_record(out: Path, name: str, exercise_id: str) -> dict:
    return next(e for e in record(out, name)["exercises"] if e["id"] == exercise_id)


def exercise_feedback(out: Path, name: str, exercise_id: str) -> str:
    return "\n".join(t["output"] for t in results(out, name)["tests"] if t["name"].startswith(exercise_id))


def failing(document: dict) -> list[str]:
    return [f"{t['name']}: {t['output'][:300]}" for t in document["tests"] if t["status"] != "passed"]


def assert_complete(out: Path, course, roles: dict[str, str]) -> dict[str, dict[str, float]]:
    """grades.csv has one row per submission and nothing else, each row adds up; summary.json counts them all."""
    rows = grades_rows(out)
    assert sorted(rows) == sorted(csv_cell(name) for name in roles), sorted(rows)
    for cell, row in rows.items():
        assert set(row) == {*points(course), "total"}, (cell, row)
        assert row["total"] == pytest.approx(sum(row[e] for e in points(course)), abs=1e-3), (cell, row)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["submissions"] == len(roles), summary["submissions"]
    return rows


def assert_full_marks(out: Path, course, names) -> None:
    rows = grades_rows(out)
    for name in names:
        document = results(out, name)
        assert rows[csv_cell(name)] == {**points(course), "total": course.config.max_points}, (name, failing(document))
        assert document["score"] == document["max_score"] == course.config.max_points, (name, failing(document))


def assert_honest(out: Path, course, name: str, attacking: str = HOSTILE_EXERCISE) -> None:
    """The hostile exercise earns 0 and every other exercise of the submission full marks."""
    row = grades_rows(out)[csv_cell(name)]
    expected = {e: (0.0 if e == attacking else p) for e, p in points(course).items()}
    assert {e: row[e] for e in expected} == expected, (name, row, failing(results(out, name)))


def assert_not_a_result(out: Path, name: str, exercise_id: str = HOSTILE_EXERCISE) -> None:
    """The exercise failed as a result that is not one (invalid_result), worded for the student."""
    entry = exercise_record(out, name, exercise_id)
    words = exercise_feedback(out, name, exercise_id)
    assert entry["score"] == 0, entry
    assert "invalid_result" in entry["misconceptions"] or "not a result" in words.lower(), (entry, words[:600])
    assert words.strip(), "no sentence for the bad input"
    assert "Traceback" not in words, words[:600]


def no_traceback(run: CliRun) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr[-3000:]


def all_results_text(out: Path) -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(out.glob("*/results.json")))


# --------------------------------------------------------------------------- the one hostile class


@pytest.fixture(scope="module")
def hostile(course):
    """The class graded once by the CLI, and the same class without its hostile submissions."""
    arena = make_arena()
    try:
        ordinary = build_correct_class(arena / "ordinary")
        baseline = run_cli(arena / "ordinary", arena / "ordinary-out")
        roles = build_hostile_class(arena / "class")
        run = run_cli(arena / "class", arena / "out")
        yield {"arena": arena, "out": arena / "out", "run": run, "roles": roles,
               "baseline": baseline, "baseline_out": arena / "ordinary-out", "ordinary": ordinary}
    finally:
        remove_deep(arena / "class" / DEEP)
        shutil.rmtree(arena, ignore_errors=True)


def finished(hostile) -> Path:
    """OUT of the hostile run, once it is known to have finished without a traceback and with its files."""
    run = hostile["run"]
    no_traceback(run)
    assert run.returncode == 0, f"grade exited {run.returncode}: {run.stderr[-3000:]}"
    assert (hostile["out"] / "grades.csv").is_file(), run.stderr[-3000:]
    return hostile["out"]


@pytest.mark.slow
def test_the_ordinary_run_is_complete(hostile, course):
    """The yardstick itself: the correct classmates alone, graded by the same command."""
    baseline = hostile["baseline"]
    no_traceback(baseline)
    assert baseline.returncode == 0, baseline.stderr[-2000:]
    assert_complete(hostile["baseline_out"], course, hostile["ordinary"])
    assert_full_marks(hostile["baseline_out"], course, CORRECT)
    assert baseline.peak_kb > 0


@pytest.mark.slow
def test_hostile_class_gives_a_complete_grades_csv(hostile, course):
    """A row for every submission, correct ones (whatever their names) with full marks, no traceback anywhere."""
    out = finished(hostile)
    roles = hostile["roles"]
    assert_complete(out, course, roles)
    assert_full_marks(out, course, [n for n, role in roles.items() if role == "correct"])
    assert sorted(folders_by_name(out)) == sorted(roles)
    assert "Traceback" not in all_results_text(out)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert not summary.get("grader_failures"), summary.get("grader_failures")
    # One progress line per submission.
    progress = [line for _, line in hostile["run"].lines if re.match(r"^\[\d+/\d+\] ", line)]
    assert len(progress) == len(roles), progress


@pytest.mark.slow
@pytest.mark.parametrize("name", FORGED)
def test_a_forged_frame_fails_only_its_exercise(hostile, course, name):
    """1. The child writes its own well-formed frame for the exercise the pool expects (a 400-digit number;
    a tensor whose shape product overflows int64): that exercise is not a result, and nothing raises."""
    out = finished(hostile)
    assert_not_a_result(out, name)
    assert_honest(out, course, name)
    assert_full_marks(out, course, CORRECT)


@pytest.mark.slow
def test_a_60_mb_flood_of_empty_objects_fails_its_exercise(hostile, course):
    """2. Twenty million ``{}`` in one ~60 MB frame: the exercise fails, the rest of the submission does not."""
    out = finished(hostile)
    assert_not_a_result(out, FLOOD)
    assert_honest(out, course, FLOOD)
    assert_full_marks(out, course, CORRECT)


@pytest.mark.slow
def test_parent_peak_memory_within_twice_an_ordinary_run(hostile):
    """2. The grading process's VmHWM with every hostile input stays within 2x grading the correct classmates."""
    finished(hostile)
    ordinary, hostile_peak = hostile["baseline"].peak_kb, hostile["run"].peak_kb
    print(f"grading process VmHWM: {hostile_peak / 1024:.0f} MiB hostile class, {ordinary / 1024:.0f} MiB ordinary")
    assert ordinary > 0 and hostile_peak > 0
    assert hostile_peak <= 2 * ordinary, (
        f"peak RSS of the grading process: {hostile_peak / 1024:.0f} MiB with the hostile submissions, "
        f"{ordinary / 1024:.0f} MiB without")


@pytest.mark.slow
def test_hostile_names_each_get_their_row_and_full_marks(hostile, course):
    """3. grades.csv / summary.json as names, a GBK folder name, names starting with = + - @."""
    out = finished(hostile)
    rows = grades_rows(out)
    shown = list(NAMED.values())
    assert_full_marks(out, course, shown)
    for name in shown:
        assert csv_cell(name) in rows, (name, sorted(rows))
    assert not rows.keys() - {csv_cell(n) for n in hostile["roles"]}
    for cell in rows:
        assert not cell.startswith(FORMULA_STARTS), cell
    # The run's own files are still the run's own.
    assert (out / "grades.csv").is_file() and (out / "summary.json").is_file()
    assert json.loads((out / "summary.json").read_text("utf-8"))["submissions"] == len(hostile["roles"])


@pytest.mark.slow
def test_a_folder_1100_deep_is_survived_and_said(hostile, course):
    """4. 1,100 nested folders: no crash, a row, the file at depth 3 graded, and either one sentence saying
    the folder is too deep or the file at the bottom ignored (not submitted)."""
    out = finished(hostile)
    rows = grades_rows(out)
    assert DEEP in rows
    entry = {e["id"]: e for e in record(out, DEEP)["exercises"]}
    for exercise_id, full in points(course).items():
        if exercise_id != DEEP_BOTTOM_EXERCISE:
            assert entry[exercise_id]["score"] == full, (exercise_id, entry[exercise_id], failing(results(out, DEEP)))
    document = results(out, DEEP)
    said = "\n".join([document["output"], *(t["output"] for t in document["tests"]), hostile["run"].stderr])
    ignored = entry[DEEP_BOTTOM_EXERCISE]["status"] == "not_submitted"
    assert "deep" in said.lower() or ignored, (entry[DEEP_BOTTOM_EXERCISE], document["output"])
    assert "Traceback" not in said and "RecursionError" not in said


@pytest.mark.slow
def test_printed_hidden_inputs_stay_out_of_visible_tests(hostile, course):
    """5. An ex03 printing ``x`` with every digit on every call, failing a public check: no visible test shows
    what it printed on a hidden case."""
    out = finished(hostile)
    spec = course.config.exercise(HOSTILE_EXERCISE)
    hidden = [case for case in build_cases(spec, course.config.seed, include_hidden=True) if not case.public]
    assert hidden, "ex03 has no hidden case"
    needles = {repr(value) for case in hidden for value in case.input.reshape(-1).tolist()}
    needles = {n for n in needles if len(n) >= 8}  # randn values: 17 digits, never a coincidence
    assert needles
    document = results(out, PRINTER)
    ex03 = [t for t in document["tests"] if t["name"].startswith(HOSTILE_EXERCISE)]
    visible = [t for t in ex03 if t["visibility"] == "visible"]
    assert any(t["status"] == "failed" for t in visible), "the printer must fail a public check"
    leaked = sorted(n for n in needles for t in document["tests"] if t["visibility"] == "visible" and n in t["output"])
    assert not leaked, f"hidden inputs shown in visible tests: {leaked[:5]}"
    assert exercise_record(out, PRINTER, HOSTILE_EXERCISE)["score"] < points(course)[HOSTILE_EXERCISE]
    assert_full_marks(out, course, CORRECT)


@pytest.mark.slow
def test_a_15_mb_notebook_is_graded_correctly_and_quickly(hostile, course):
    """6. A 15 MB notebook gets full marks, and the grading parent spends < 10 s on it in the run.

    It is named to sort first: the parent reads it before any other submission and its progress line is
    the first, so the time from the run's start (the isolation line, printed before grading starts) to that
    line bounds what the parent spent on it (plan, reading it and the next few, its sandboxed runs)."""
    out = finished(hostile)
    run = hostile["run"]
    notebook = hostile["arena"] / "class" / f"{NOTEBOOK_NAME}.ipynb"
    assert notebook.stat().st_size >= 14_000_000
    assert_full_marks(out, course, [NOTEBOOK_NAME])
    started = run.line_time(lambda line: line.startswith("grader: isolation:"))
    done = run.line_time(lambda line: re.match(r"^\[\d+/\d+\] " + re.escape(NOTEBOOK_NAME) + ": ", line))
    assert started is not None and done is not None, run.stderr[-2000:]
    first = next(line for _, line in run.lines if re.match(r"^\[\d+/\d+\] ", line))
    assert first.startswith(f"[1/{len(hostile['roles'])}] {NOTEBOOK_NAME}: "), first
    cpu = run.cpu_at(done) - run.cpu_at(started)
    print(f"start to the notebook's progress line: {done - started:.1f} s wall, {cpu:.1f} s of the parent's CPU")
    assert done - started < NOTEBOOK_SECONDS, f"{done - started:.1f} s wall ({cpu:.1f} s of the parent's CPU)"


# --------------------------------------------------------------------------- 7. OUT on a tmpfs that fills up


TMPFS_SIZE = "3m"
FULL_CLASS = tuple(f"student{index:02d}" for index in range(1, 13))
ROOM_SUBMISSIONS = 3
"""How many submissions' outputs fit on the tmpfs beside its ballast: it fills up a few submissions in."""


def _mount_tmpfs(where: Path) -> str | None:
    """Mount a small tmpfs at ``where``; the reason it cannot be, or None."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return f"mount -t tmpfs failed: {(done.stderr or done.stdout).strip()}"
    return None


def _unmount(where: Path) -> None:
    subprocess.run(["umount", str(where)], capture_output=True)


def _is_mounted(where: Path) -> bool:
    return os.path.ismount(where)


@pytest.mark.slow
def test_out_on_a_tmpfs_that_fills_up(arena, course):
    """7. The disk fills during the run: one sentence naming OUT and the disk problem, exit non-zero, no
    traceback, no half-written results.json/grade.json; after making room, a rerun completes."""
    roles = build_correct_class(arena / "class", FULL_CLASS)
    # How much one submission writes (results.json + grade.json, in pages), from an ordinary run.
    sizing = run_cli(arena / "class", arena / "sizing")
    assert sizing.returncode == 0, sizing.stderr[-2000:]
    page = os.sysconf("SC_PAGE_SIZE")
    per_submission = max(sum(-(-p.stat().st_size // page) * page for p in (arena / "sizing").glob(f"{n}/*.json"))
                         for n in FULL_CLASS)
    disk = arena / "disk"
    why = _mount_tmpfs(disk)
    if why is not None:
        pytest.skip(why)
    try:
        free = shutil.disk_usage(disk).free
        room = ROOM_SUBMISSIONS * per_submission + per_submission // 2
        with open(disk / "ballast", "wb") as handle:
            handle.write(b"\0" * max(0, free - room))
        out = disk / "out"
        run = run_cli(arena / "class", out)

        no_traceback(run)
        assert run.returncode != 0, "a full disk must not end in success"
        sentences = [line for line in run.stderr.splitlines()
                     if line.startswith("grader:") and not line.startswith("grader: isolation:")]
        assert len(sentences) == 1, run.stderr[-2000:]
        sentence = sentences[0]
        assert str(out) in sentence, sentence
        assert re.search(r"space|full|disk", sentence, re.IGNORECASE), sentence
        # It filled up during the run, not before: some submissions were written, completely.
        written = sorted(out.glob("*/grade.json")) + sorted(out.glob("*/results.json"))
        assert written, "the tmpfs was full before any submission was written: the test's ballast is wrong"
        for path in written:
            text = path.read_text("utf-8")
            try:
                json.loads(text)
            except ValueError:
                pytest.fail(f"{path.relative_to(out)} is half-written ({len(text)} bytes)")
        moved = arena / "out-moved"
        shutil.copytree(out, moved, symlinks=True)
    finally:
        _unmount(disk)
    assert not _is_mounted(disk)

    rerun = run_cli(arena / "class", moved)
    no_traceback(rerun)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert_complete(moved, course, roles)
    assert_full_marks(moved, course, FULL_CLASS)
    assert not list(moved.rglob("*.tmp")), "temporaries of the failed run are still there"


# --------------------------------------------------------------------------- 8. kill -9 of a running grade


def _zygotes(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                if b"grader.runner.zygote" in handle.read():
                    found.append(child)
        except OSError:
            pass
    return found


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


@pytest.mark.slow
def test_a_killed_grade_is_swept_by_the_next(arena, course):
    """8. kill -9 of a running ``grade``: the next ``grade`` (same TMPDIR) removes the dead run's
    ``grader-<pid>-*`` folder, its zygotes are gone, and the class is graded completely."""
    tmp = arena / "tmp"
    tmp.mkdir()
    os.chmod(tmp, 0o1777)
    submissions = arena / "class"
    roles = build_correct_class(submissions)
    # Keeps the run busy (its ex03 sleeps past its budget) so that it is killed mid-class.
    sleeper = correct_copy(submissions / "zz_sleeper")
    shutil.copyfile(FIXTURES / "adversarial" / "sleep" / FILES[HOSTILE_EXERCISE], sleeper / FILES[HOSTILE_EXERCISE])
    roles["zz_sleeper"] = "sleeper"
    out = arena / "out"

    first = Watched(cli_command(submissions, out, "--timeout", "6"), cli_environment(TMPDIR=str(tmp)))
    try:
        pid = first.pid
        progressed = wait_for(lambda: any(re.match(r"^\[\d+/", line) for _, line in first.lines), 240, 0.1)
        assert progressed, f"the first run never got going: {first.stderr_tail()}"
        workdirs = [p for p in tmp.iterdir() if p.name.startswith(f"grader-{pid}-")]
        assert workdirs, sorted(p.name for p in tmp.iterdir())
        zygotes = _zygotes(pid)
        assert zygotes, "no zygote under the running grade"
        family = _descendants(pid)
        os.kill(pid, signal.SIGKILL)
        killed = first.wait(timeout=60)
        assert killed.returncode == -signal.SIGKILL
    finally:
        if first.process.poll() is None:
            first.process.kill()
            first.process.wait()

    second = run_cli(submissions, out, "--timeout", "6", TMPDIR=str(tmp))
    no_traceback(second)
    assert second.returncode == 0, second.stderr[-2000:]
    assert not [p for p in workdirs if p.exists()], "the dead run's working folder was not swept"
    assert not [p for p in tmp.iterdir() if p.name.startswith("grader-")], sorted(p.name for p in tmp.iterdir())
    alive = [z for z in zygotes if not wait_for(lambda z=z: process_gone(z), 30)]
    assert not alive, f"zygotes of the killed run still running: {alive}"
    stragglers = [p for p in family if not process_gone(p)]
    assert not stragglers, f"processes of the killed run still running: {stragglers}"
    assert_complete(out, course, roles)
    assert_full_marks(out, course, CORRECT)
    row = grades_rows(out)["zz_sleeper"]
    assert row[HOSTILE_EXERCISE] == 0 and row["total"] == course.config.max_points - points(course)[HOSTILE_EXERCISE]
