"""`grader check --watch`: a real watcher process, fed saves of real files, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.commands.session import zygote_children
from helpers import copy_course, REPO, SUBMISSIONS

CORRECT = SUBMISSIONS / "correct" / "ex03_sum_backward.py"
WEIGHTED = SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py"
REPORT_END = "Ctrl-C to stop"
"""The last line of every report (catalogue key watch.took, in English)."""
FIRST_REPORT_SECONDS = 120.0  # the first check starts a zygote that imports torch
REPORT_SECONDS = 30.0


class Watcher:
    """``python -m grader ... check --watch`` as a subprocess, its stdout and stderr read line by line."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, needle: str, timeout: float = REPORT_SECONDS) -> str:
        """Every line printed from now until one containing ``needle``, joined."""
        deadline = time.monotonic() + timeout
        block = []
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {needle!r} within {timeout} s; printed so far:\n" + "\n".join(self.seen + block))
            if line is None:
                pytest.fail(f"the watcher ended before {needle!r}:\n" + "\n".join(self.seen + block))
            block.append(line)
            if needle in line:
                self.seen += block
                return "\n".join(block)

    def stop(self) -> int:
        """Ctrl-C; the exit code, after checking that none of its zygotes outlives it."""
        zygotes = zygote_children(self.process.pid)
        assert zygotes, "a running watcher holds a zygote"
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        assert not [pid for pid in zygotes if _alive(pid)], "a zygote outlived its watcher"
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting to be reaped by init does not count)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:].split()[0] not in (b"Z", b"X")


def save_by_rename(path: Path, data: bytes) -> None:
    """Save as many editors do: write a new file beside it, then rename it over the old one."""
    fresh = path.with_name(f".{path.name}.swp")
    fresh.write_bytes(data)
    os.replace(fresh, path)


@pytest.fixture
def course_copy(tmp_path) -> Path:
    """A course folder of our own (its config.yaml can be broken without touching the repository's)."""
    return copy_course(tmp_path / "course")


def test_watch_rechecks_each_save_and_stops_on_ctrl_c(tmp_path):
    """Does --watch report the first check, then a failing report with the hint after a wrong save (by rename),
    a passing one after a right save (in place), and end with exit 0 and no zygote left on SIGINT?"""
    watched = tmp_path / "ex03_sum_backward.py"
    shutil.copy(CORRECT, watched)
    watcher = Watcher("--course", str(REPO), "check", "ex03", "--watch", "--file", str(watched), "--lang", "en")
    try:
        first = watcher.until(REPORT_END, FIRST_REPORT_SECONDS)
        assert "checking ex03" in first and "✓ ex03" in first and "✗" not in first

        save_by_rename(watched, WEIGHTED.read_bytes())
        wrong = watcher.until(REPORT_END)
        assert "re-checking ex03" in wrong
        assert "✗ ex03" in wrong and "weights each element" in wrong

        watched.write_bytes(CORRECT.read_bytes())
        right = watcher.until(REPORT_END)
        assert "re-checking ex03" in right and "✓ ex03" in right and "✗" not in right
        assert watcher.stop() == 0
        watcher.until("Stopped watching.")
    finally:
        watcher.kill()


def test_a_config_broken_while_watching_is_said_and_the_watch_goes_on(course_copy, tmp_path):
    """Does breaking config.yaml print the one-sentence error and keep watching, re-checking once it is fixed?"""
    watched = tmp_path / "ex03_sum_backward.py"
    shutil.copy(CORRECT, watched)
    config = course_copy / "config.yaml"
    good = config.read_bytes()
    watcher = Watcher("--course", str(course_copy), "check", "ex03", "--watch", "--file", str(watched),
                      "--lang", "en")
    try:
        watcher.until(REPORT_END, FIRST_REPORT_SECONDS)

        config.write_text("exercises: [unclosed\n", encoding="utf-8")
        broken = watcher.until("Still watching")
        errors = [line for line in broken.splitlines() if line.startswith("grader: ")]
        assert len(errors) == 1 and "config.yaml" in errors[0] and "Traceback" not in broken
        assert watcher.process.poll() is None

        watched.write_bytes(WEIGHTED.read_bytes())  # not checked while the config cannot be read
        config.write_bytes(good)
        fixed = watcher.until(REPORT_END)
        assert "config.yaml changed; re-checking ex03" in fixed and "✗ ex03" in fixed
        assert watcher.stop() == 0
    finally:
        watcher.kill()


def test_a_config_broken_at_start_is_one_sentence_and_exit_2(course_copy, tmp_path):
    """Does --watch on a course whose config.yaml is broken stop at once with exit 2 and one sentence?"""
    (course_copy / "config.yaml").write_text("exercises: [unclosed\n", encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "--course", str(course_copy), "check", "ex03", "--watch", "--lang", "en"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: ") and completed.stdout == ""


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_watch_with_json_or_plot_is_a_usage_error(monkeypatch, capsys, flag):
    """Is --watch with --json or --plot refused with exit 2 and one sentence, before any zygote starts?"""
    from grader import cli

    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    assert cli.main(["check", "ex03", "--watch", flag, "--lang", "en"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: --watch")
