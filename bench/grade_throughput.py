"""Benchmark: `grader grade --jobs 2` throughput on N generated submissions, next to `python -c "import torch"`.

    python bench/grade_throughput.py [--sizes 200 1000] [--jobs 2] [--no-ceiling]

For each N it generates a class (a realistic mix: mostly right, typical
mistakes, untouched stubs), grades it from scratch with isolation on, and
prints:

- submissions per second over the whole run (start-up included) and once
  grading is under way (from the first graded submission to the last, read
  off grade's progress lines as they appear);
- CPU seconds per submission (the grading process and every process under it);
- per-exercise latency (the sandboxed child's wall time, from each grade.json);
- the grading parent's peak RSS (sampled from /proc while it runs) and one
  child's peak RSS (ru_maxrss, which counts torch's pages the child shares
  with its zygote).

Then, unless --no-ceiling, the same run measures what the sandboxed children
alone allow here (bench/fork_ceiling.py), with no grading parent: the rate a
child-per-exercise design cannot exceed on this machine.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class GradeRun:
    elapsed: float
    first_done: float
    """Seconds from start until the first submission was graded (start-up plus one submission)."""
    last_done: float
    cpu_seconds: float
    parent_peak_kb: int


def run_grade(submissions: Path, out: Path, jobs: int, isolate: str = "submission") -> GradeRun:
    command = [sys.executable, "-m", "grader", "grade", str(submissions), "-o", str(out), "--jobs", str(jobs),
               "--isolate", isolate]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Not a TTY, so grade prints one "[i/N] name: score" line per graded submission (on stderr).
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, done_at = [0], []

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], peak_rss_kb(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for line in process.stderr:
        if line.startswith("["):
            done_at.append(time.perf_counter() - started)
    process.wait()
    elapsed = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0 or not done_at:
        raise SystemExit(f"grader grade failed with exit code {process.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return GradeRun(elapsed, done_at[0], done_at[-1], cpu, peak[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--isolate", nargs="+", choices=("submission", "exercise"), default=["submission"],
                        help="isolation modes to measure (default: submission, grade's default)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the fork-only measurement")
    args = parser.parse_args()

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    floor = time.perf_counter() - started
    print(f'python -c "import torch": {floor:.3f} s')
    layers_said = False
    for isolate, size in ((mode, size) for mode in args.isolate for size in args.sizes):
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as scratch:
            submissions, out = Path(scratch) / "class", Path(scratch) / "out"
            submissions.mkdir()
            generate(submissions, size)
            run = run_grade(submissions, out, args.jobs, isolate)
            walls, child_kb = [], []
            for record_path in out.glob("*/grade.json"):
                for exercise in json.loads(record_path.read_text())["exercises"]:
                    if exercise["wall"]:
                        walls.append(exercise["wall"])
                        child_kb.append(exercise["max_rss_kb"])
            walls.sort()
            summary = json.loads((out / "summary.json").read_text())
            if not layers_said:
                layers = summary.get("sandbox", {})
                print(f"isolation: {layers.get('summary', '?')}")
                layers_said = True
            steady = (size - 1) / (run.last_done - run.first_done) if size > 1 else float("nan")
            print(
                f"--isolate {isolate:10s} N={size:5d} --jobs {args.jobs}: {run.elapsed:7.2f} s wall, {size / run.elapsed:5.1f} submissions/s "
                f"overall; first graded after {run.first_done:.1f} s, then {steady:5.1f} submissions/s; "
                f"{run.cpu_seconds / size * 1000:.0f} ms CPU per submission; per-exercise child wall median "
                f"{statistics.median(walls) * 1000:.1f} ms, p95 {walls[int(0.95 * (len(walls) - 1))] * 1000:.1f} ms; "
                f"parent peak RSS {run.parent_peak_kb / 1024:.0f} MiB; "
                f"child peak RSS median {statistics.median(child_kb) / 1024:.0f} MiB; "
                f"class mean {summary['mean_total']}/{summary['max_points']}"
            )
    if not args.no_ceiling:
        print(f"the children alone, {args.jobs} jobs (bench/fork_ceiling.py):", flush=True)
        subprocess.run([sys.executable, str(REPO / "bench" / "fork_ceiling.py"), "--jobs", str(args.jobs)],
                       check=True)


if __name__ == "__main__":
    main()
