"""Benchmark: `grader check ex03` wall time next to `python -c "import torch"`, in the same run.

    python bench/check_latency.py [--repeat 7]

Runs both commands alternately (so load on the machine hits both alike) and
prints the median, min and max of each, and the ratio of the medians. The
issue's target: check ≤ 1.3 × the torch import.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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


if __name__ == "__main__":
    main()
