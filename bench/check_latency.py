"""Benchmark: `grader check ex03` wall time next to `python -c "import torch"`, in the same run.

    python bench/check_latency.py [--repeat 7]

Runs both commands alternately (so load on the machine hits both alike) and
prints the median, min and max of each, and the ratio of the medians. The
issue's target: check ≤ 1.3 × the torch import.

Then the repeat check, where the warm sandbox outlives one check (target ≤ 0.2 s):
``grader check --watch`` on a temporary copy of the file, timed from each
rewrite of the file to the end of the report on its stdout, and the 2nd..Nth
``grader.check()`` in one Python process, as in a notebook kernel.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPEAT_TARGET = 0.2
"""Seconds a repeat check may take once the sandbox is warm."""
REPORT_END = "Ctrl-C to stop"
"""The line --watch prints (in English) after each report."""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--file", default="tests/fixtures/submissions/correct/ex03_sum_backward.py",
                        help="the submission `grader check ex03` runs on")
    args = parser.parse_args()
    commands = {
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
        f"grader check ex03 --file {args.file}": [sys.executable, "-m", "grader", "check", "ex03", "--file", args.file],
    }
    for command in commands.values():  # warm the page cache once, untimed
        timed(command)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, command in commands.items():
            samples[name].append(timed(command))
    width = max(len(name) for name in commands)
    print(f"{'command':<{width}}  median    min      max   (s, {args.repeat} runs each)")
    for name, values in samples.items():
        print(f"{name:<{width}}  {statistics.median(values):6.3f}  {min(values):6.3f}  {max(values):6.3f}")
    floor, check = (statistics.median(v) for v in samples.values())
    print(f"ratio check / import torch: {check / floor:.2f}x  (target ≤ 1.30x); cost on top of the floor: "
          f"{check - floor:+.3f} s")

    repeats = {
        "grader check --watch, save → report": watch_latencies(REPO / args.file, args.repeat),
        "grader.check() in one process, call 2..N": notebook_latencies(REPO / args.file, args.repeat),
    }
    width = max(len(name) for name in repeats)
    print(f"\n{'repeat check':<{width}}  median    min      max   (s, {args.repeat} each; target ≤ {REPEAT_TARGET:.3f})")
    for name, values in repeats.items():
        median = statistics.median(values)
        verdict = "ok" if median <= REPEAT_TARGET else "over"
        print(f"{name:<{width}}  {median:6.3f}  {min(values):6.3f}  {max(values):6.3f}  {verdict}; "
              f"{median / floor:.2f}x the torch import ({floor:.3f} s)")


def watch_latencies(submission: Path, count: int) -> list[float]:
    """Seconds from each rewrite of a watched file to the end of the report --watch prints for it."""
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as scratch:
        watched = Path(scratch) / submission.name
        shutil.copy(submission, watched)
        process = subprocess.Popen(
            [sys.executable, "-m", "grader", "--course", str(REPO), "check", "ex03", "--watch", "--file",
             str(watched), "--lang", "en"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
        try:
            _until_report(lines, 300)
            source = submission.read_text(encoding="utf-8")
            samples = []
            for number in range(count):
                time.sleep(0.3)  # let the watcher settle into polling, as between two saves
                started = time.perf_counter()
                # A different size each time, so the save is seen even where mtime is coarse.
                watched.write_text(source + "\n" * (number + 1), encoding="utf-8")
                _until_report(lines, 60)
                samples.append(time.perf_counter() - started)
        finally:
            process.send_signal(2)  # SIGINT: how a student stops the watch
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return samples


def _until_report(lines: queue.Queue, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while REPORT_END not in lines.get(timeout=max(0.0, deadline - time.monotonic())):
        pass


_NOTEBOOK = """
import json, sys, time
import grader
seconds = []
for _ in range(int(sys.argv[2]) + 1):
    started = time.perf_counter()
    grader.check("ex03", course=sys.argv[1], lang="en")
    seconds.append(time.perf_counter() - started)
print(json.dumps(seconds[1:]))
"""


def notebook_latencies(submission: Path, count: int) -> list[float]:
    """Seconds of the 2nd..(count+1)th ``grader.check("ex03")`` in one interpreter, on a course copy."""
    with tempfile.TemporaryDirectory(prefix="bench-session-") as scratch:
        course = Path(scratch) / "course"
        course.mkdir()
        shutil.copy(REPO / "config.yaml", course / "config.yaml")
        for folder in ("exercises", "solutions"):
            shutil.copytree(REPO / folder, course / folder)
        shutil.copy(submission, course / "exercises" / submission.name)
        completed = subprocess.run(
            [sys.executable, "-c", _NOTEBOOK, str(course), str(count)], cwd=REPO, capture_output=True, text=True,
            check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
