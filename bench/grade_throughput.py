"""Benchmark: `grader grade --jobs 2` throughput on N generated submissions, next to `python -c "import torch"`.

    python bench/grade_throughput.py [--sizes 200 1000] [--jobs 2]

For each N it generates a class (a realistic mix: mostly right, typical
mistakes, untouched stubs, a few that never finish), grades it from scratch
with isolation on, and prints submissions per second, per-exercise latency
(the sandboxed child's wall time, from each grade.json), the grading
parent's peak RSS (sampled from /proc while it runs) and one child's peak
RSS (ru_maxrss, which counts torch's pages the child shares with its zygote).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "submissions"
# (fixture scenario, weight): what a class hands in, roughly.
MIX = [
    ("correct", 55),
    ("stubs", 10),
    ("ex01_double_backward", 4),
    ("ex01_no_backward", 4),
    ("ex02_no_zero", 6),
    ("ex03_nonscalar_backward", 6),
    ("ex03_weighted", 3),
    ("ex04_no_detach", 5),
    ("ex05_item", 4),
    ("ex06_uses_cos", 3),
]


def generate(folder: Path, count: int, seed: int = 0) -> None:
    """``count`` submission folders: the correct solution with one exercise swapped for a scenario's."""
    rng = random.Random(seed)
    scenarios = [name for name, weight in MIX for _ in range(weight)]
    for index in range(count):
        target = folder / f"student{index:04d}"
        shutil.copytree(FIXTURES / "correct", target)
        scenario = rng.choice(scenarios)
        if scenario != "correct":
            for path in (FIXTURES / scenario).glob("*.py"):
                shutil.copy(path, target / path.name)


def peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_grade(submissions: Path, out: Path, jobs: int) -> tuple[float, int]:
    command = [sys.executable, "-m", "grader", "grade", str(submissions), "-o", str(out), "--jobs", str(jobs)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, peak_rss_kb(process.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"grader grade failed with exit code {process.returncode}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    floor = time.perf_counter() - started
    print(f'python -c "import torch": {floor:.3f} s')
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as scratch:
            submissions, out = Path(scratch) / "class", Path(scratch) / "out"
            submissions.mkdir()
            generate(submissions, size)
            elapsed, parent_kb = run_grade(submissions, out, args.jobs)
            walls, child_kb = [], []
            for record_path in out.glob("*/grade.json"):
                for exercise in json.loads(record_path.read_text())["exercises"]:
                    if exercise["wall"]:
                        walls.append(exercise["wall"])
                        child_kb.append(exercise["max_rss_kb"])
            walls.sort()
            summary = json.loads((out / "summary.json").read_text())
            print(
                f"N={size:5d} --jobs {args.jobs}: {elapsed:7.2f} s wall, {size / elapsed:6.1f} submissions/s "
                f"(incl. start-up); per-exercise child wall median {statistics.median(walls) * 1000:.1f} ms, "
                f"p95 {walls[int(0.95 * (len(walls) - 1))] * 1000:.1f} ms; parent peak RSS {parent_kb / 1024:.0f} MiB; "
                f"child peak RSS median {statistics.median(child_kb) / 1024:.0f} MiB; "
                f"class mean {summary['mean_total']}/{summary['max_points']}"
            )


if __name__ == "__main__":
    main()
