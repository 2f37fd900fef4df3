"""`grader.check()` in a notebook: one warm pool per interpreter, reused between calls, closed at exit.

Each test runs its calls in a fresh Python process, as a kernel would, so the session's pool and its
``atexit`` close are those of that process and not of the test run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import copy_course, REPO, SUBMISSIONS

KERNEL = """
import json, os, signal, sys, time
import grader
from grader.commands.session import SESSION

course = sys.argv[1]
calls = []
for step in sys.argv[2:]:
    if step == "kill":  # the zygote dies between two cells
        for pid in SESSION.zygote_pids():
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        continue
    started = time.perf_counter()
    report = grader.check("ex03", course=course, lang="en")
    calls.append({"seconds": time.perf_counter() - started, "passed": report.passed, "text": report.text,
                  "html": report._repr_html_(), "zygotes": SESSION.zygote_pids()})
print(json.dumps({"pid": os.getpid(), "calls": calls}))
"""


@pytest.fixture
def course_copy(tmp_path) -> Path:
    """A course whose exercises/ex03 is a correct answer, so a check passes."""
    root = copy_course(tmp_path / "course")
    shutil.copy(SUBMISSIONS / "correct" / "ex03_sum_backward.py", root / "exercises" / "ex03_sum_backward.py")
    return root


def kernel(course: Path, *steps: str) -> dict:
    """Run ``steps`` (``check`` or ``kill``) in one fresh interpreter; what each check returned."""
    completed = subprocess.run(
        [sys.executable, "-c", KERNEL, str(course), *steps], cwd=REPO, capture_output=True, text=True,
        timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for init to reap it does not count)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:].split()[0] not in (b"Z", b"X")


def test_two_checks_share_one_pool_and_it_closes_at_exit(course_copy):
    """Do two grader.check() calls in one interpreter use the same zygote, the second faster, and is that
    zygote gone once the interpreter has exited?"""
    first, second = kernel(course_copy, "check", "check")["calls"]
    assert first["passed"] and second["passed"]
    assert "✓ ex03" in second["text"] and "<pre" in second["html"]
    assert len(first["zygotes"]) == 1 and first["zygotes"] == second["zygotes"]
    assert second["seconds"] < first["seconds"]
    assert not running(first["zygotes"][0]), "the session's zygote outlived its interpreter"


def test_a_dead_zygote_is_replaced_transparently(course_copy):
    """When the zygote dies between two checks, does the next check still pass, on a new zygote?"""
    before, after = kernel(course_copy, "check", "kill", "check")["calls"]
    assert before["passed"] and after["passed"], after["text"]
    assert len(after["zygotes"]) == 1 and after["zygotes"] != before["zygotes"]
    assert not running(after["zygotes"][0])


def test_a_mistake_in_the_call_leaves_no_pool_behind(monkeypatch):
    """Does grader.check() of an unknown exercise answer with a sentence without starting a zygote?"""
    from grader.commands.session import SESSION

    import grader

    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    before = SESSION.zygote_pids()
    report = grader.check("ex9", lang="en")
    assert report.passed is False and report.text.startswith("grader: ")
    assert SESSION.zygote_pids() == before
