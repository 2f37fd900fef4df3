"""Hostile submissions graded with ``grade_class``: each one fails (or, for noise, passes) and nothing escapes.

Every case grades a class of two - one attack from ``tests/fixtures/adversarial/`` and a copy of
the ``correct`` submission - through a real worker pool with a short time budget, then checks:
the attack's ex03 score and the sentence its results.json gives; the correct student's full
marks (nothing leaked across); the output folder holds exactly the expected files; the
submissions folder is untouched; no process the attack tried to start is alive.

The class lives in a world-writable folder under /tmp and solutions/ is world-readable, so file
modes alone would let the sandboxed child (uid 65534) in: only the sandbox keeps it out.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from helpers import FIXTURES, REPO, SUBMISSIONS
from grader.commands.grade import GradeOptions, grade_class

ADVERSARIAL = FIXTURES / "adversarial"
TIMEOUT = 3.0
EX03 = "ex03"
# Strings the attacks put in a process's cmdline or comm: none may be alive after grading.
PROCESS_MARKERS = ("1000.123", "advswarm1000")

# name -> (ex03 earns full marks?, phrases of which at least one must appear in its ex03 feedback)
CASES = {
    "monkeypatch_torch": (False, ("is not what autograd should give", "is None")),
    "lying_subclass": (False, ("subclass of torch.Tensor",)),
    "fake_stdout_exit": (False, ("ended the process",)),
    "sys_exit_zero": (False, ("called sys.exit()", "ended the process")),
    "read_solutions": (False, ("PermissionError", "Permission denied", "FileNotFoundError", "No such file")),
    "write_out": (False, ("is not what autograd should give", "is None")),
    "big_alloc": (False, ("ran out of memory",)),
    "loop_at_import": (False, ("Stopped after",)),
    "loop_in_function": (False, ("Stopped after",)),
    "sleep": (False, ("Stopped after",)),
    "segfault": (False, ("crashed",)),
    "pickle_payload": (False, ("could not be read back safely",)),
    "pickle_frame": (False, ("could not be read back safely",)),
    "setsid_orphan": (False, ("is not what autograd should give", "is None")),
    "fork_swarm": (False, ("is not what autograd should give", "is None")),
    "megabytes_output": (True, ()),
    "garbage_bytes": (False, ("not UTF-8", "SyntaxError")),
}


def _open_up(root: Path) -> None:
    """Make a tree readable and writable by everyone: the sandbox, not file modes, must stop the child."""
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)


def _install(name: str, arena: Path) -> dict[str, Path]:
    paths = {
        "submissions": arena / "submissions",
        "out": arena / "out",
        "pwned": arena / "pwned",
    }
    target = paths["submissions"] / name
    shutil.copytree(SUBMISSIONS / "correct", paths["submissions"] / "correct")
    target.mkdir(parents=True)
    placeholders = {
        "__SOLUTIONS__": str(REPO / "solutions"),
        "__OUT__": str(paths["out"]),
        "__OTHER__": str(paths["submissions"] / "correct"),
        "__SELF__": str(target),
        "__PWNED__": str(paths["pwned"]),
    }
    for source in (ADVERSARIAL / name).iterdir():
        data = source.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # binary on purpose (garbage_bytes): copied as is
        else:
            for placeholder, value in placeholders.items():
                text = text.replace(placeholder, value)
            data = text.encode("utf-8")
        (target / source.name).write_bytes(data)
    # The output folder (and the victim's results folder) exist and are world-writable before the run.
    (paths["out"] / "correct").mkdir(parents=True)
    _open_up(paths["submissions"])
    _open_up(paths["out"])
    return paths


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: kind, size, mtime and content hash."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
        state[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, digest)
    return state


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def _process_table() -> dict[int, dict]:
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            base = Path("/proc", entry)
            status = dict(line.split(":\t", 1) for line in base.joinpath("status").read_text().splitlines()
                          if ":\t" in line)
            table[int(entry)] = {
                "cmdline": base.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"),
                "comm": base.joinpath("comm").read_text().strip(),
                "ppid": int(status["PPid"]),
                "state": status["State"].split()[0],
                "uid": int(status["Uid"].split()[0]),
            }
        except (OSError, KeyError, ValueError):
            continue  # gone while we looked
    return table


def stray_processes() -> list[str]:
    """Live processes an attack left behind: a marked one anywhere, or a descendant of this
    process that is not one of the pool's zygotes (a sandboxed child that outlived its run)."""
    table = _process_table()
    me = os.getpid()
    descendants, frontier = set(), {me}
    while frontier:
        frontier = {pid for pid, info in table.items() if info["ppid"] in frontier} - descendants
        descendants |= frontier
    stray = []
    for pid, info in table.items():
        if info["state"] == "Z":
            continue
        marked = any(m in info["cmdline"] or m in info["comm"] for m in PROCESS_MARKERS)
        unexpected_child = pid in descendants and not (info["uid"] == 0 and "grader.runner.zygote" in info["cmdline"])
        if marked or unexpected_child:
            stray.append(f"{pid} uid={info['uid']} ppid={info['ppid']} {info['comm']!r} {info['cmdline'][:120]!r}")
    return stray


def wait_for_no_strays(seconds: float = 3.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        stray = stray_processes()
        if not stray or time.monotonic() > deadline:
            return stray
        time.sleep(0.1)


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def _ex03_tests(document: dict) -> list[dict]:
    return [test for test in document["tests"] if test["name"].startswith(EX03)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_adversarial_submission_is_contained(name, course, batch_pool, arena):
    full_marks, phrases = CASES[name]
    if name == "big_alloc" and not batch_pool.layers().get("memory_limit"):
        pytest.skip("no address-space limit here: the 8 GiB attack would exhaust the machine")
    paths = _install(name, arena)
    submissions, out = paths["submissions"], paths["out"]
    before = snapshot(submissions)

    report = grade_class(course, [submissions], GradeOptions(out=out, jobs=2, lang="en", timeout=TIMEOUT),
                         batch_pool)

    assert report.graded == 2
    ex03_points = course.config.exercise(EX03).points
    rows = _csv_rows(out / "grades.csv")
    assert set(rows) == {"correct", name}

    # The attack: ex03's score and a sentence that says what happened.
    attacked = json.loads((out / name / "results.json").read_text("utf-8"))
    tests = _ex03_tests(attacked)
    assert tests, attacked
    feedback = "\n".join(test["output"] for test in tests)
    if full_marks:
        assert float(rows[name][EX03]) == ex03_points, feedback
        assert all(test["status"] == "passed" for test in tests), feedback
        # 40 MB of output went somewhere else than the results.
        assert (out / name / "results.json").stat().st_size < 256 << 10
    else:
        assert float(rows[name][EX03]) == 0, feedback
        assert float(rows[name]["total"]) == 0
        assert attacked["score"] == 0
        assert all(test["status"] == "failed" and test["score"] == 0 for test in tests), feedback
        assert any(phrase in feedback for phrase in phrases), f"none of {phrases} in:\n{feedback}"
    assert "LEAKED" not in feedback  # read_solutions: not even the names in solutions/ are visible

    # The bystander: full marks, from results it wrote itself.
    victim = json.loads((out / "correct" / "results.json").read_text("utf-8"))
    assert victim["score"] == victim["max_score"] == course.config.max_points, victim["output"]
    assert all(test["status"] == "passed" for test in victim["tests"])
    assert float(rows["correct"]["total"]) == course.config.max_points

    # Nothing escaped: the output folder holds exactly what the grader writes, the submissions
    # folder is byte-for-byte (and mtime-for-mtime) what it was, no payload ran, no process is left.
    assert _files(out) == {
        "grades.csv", "report.html", "summary.json",
        "correct/results.json", "correct/grade.json",
        f"{name}/results.json", f"{name}/grade.json",
    }
    assert snapshot(submissions) == before
    assert not paths["pwned"].exists(), "a pickle payload ran"
    assert wait_for_no_strays() == []

    # The pool is still healthy for whatever comes next.
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["submissions"] == 2
