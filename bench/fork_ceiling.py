"""Benchmark: the most a child-per-exercise design can do on this machine, measured without any grading.

    python bench/fork_ceiling.py [--jobs 2] [--seconds 5]

SPEC §5 runs each exercise of each submission in its own child, so a
submission costs six forks of a process that has imported torch. This starts
``--jobs`` processes set up exactly like `grader grade`'s zygotes
(``grader.zygote.start(warm=True)``: torch, one thread, huge pages), then has
them all fork as fast as they can for ``--seconds``, in three variants:

- ``bare``: the child exits at once (fork + exit of the torch process);
- ``sandbox``: the child also calls ``grader.sandbox.enter`` in a fresh scratch
  directory (rlimits, Landlock, uid drop, seccomp), as every real child does;
- ``harness``: the child runs ``grader.child.run_child`` on a one-line
  function with no cases (everything a real child does but torch work).

It prints runs per second over all jobs and the submissions per second that
implies at six runs each. `grader grade` also runs the student's code on
every case and compares the results in the parent, so it stays below the
``harness`` figure; `bench/grade_throughput.py` prints both side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VARIANTS = ("bare", "sandbox", "harness")
RUNS_PER_SUBMISSION = 6


def measure(jobs: int, seconds: float, variant: str) -> float:
    """Runs per second of ``variant`` with ``jobs`` zygote-like processes forking at once."""
    workers = [
        subprocess.Popen([sys.executable, __file__, "--worker", variant, str(seconds)], cwd=REPO,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                              "OPENBLAS_NUM_THREADS": "1"})
        for _ in range(jobs)
    ]
    for worker in workers:  # all set up before any starts forking, so they overlap fully
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit(f"a {variant} worker failed to start")
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = [json.loads(worker.stdout.readline()) for worker in workers]
    for worker in workers:
        worker.wait()
    return sum(r["runs"] for r in results) / max(r["elapsed"] for r in results)


def worker(variant: str, seconds: float) -> None:
    sys.path.insert(0, str(REPO))
    from grader import child, protocol, sandbox, zygote

    prepared = zygote.start(warm=True)
    workdir = Path(tempfile.mkdtemp(prefix="grader-ceiling-"))
    os.chmod(workdir, 0o711)  # the sandboxed child runs as another uid and must reach its scratch
    header = {"exercise_id": "ex03", "protocol": "call", "function": "f", "module": "submission_ex03",
              "source": "def f(x):\n    return x\n", "filename": "ex03.py", "timeout": 10, "memory_mb": 1024,
              "readable": [], "scratch": ""}
    no_cases = protocol.dump([])
    print("ready", flush=True)
    sys.stdin.readline()
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        scratch = workdir / f"run-{runs}"
        scratch.mkdir(mode=0o700)
        sink = os.open(os.devnull, os.O_WRONLY)
        pid = os.fork()
        if pid == 0:
            if variant == "sandbox":
                os.setsid()
                sandbox.enter(prepared, sandbox.Policy(readable=(), scratch=str(scratch), memory_bytes=1 << 30,
                                                       cpu_seconds=11))
            elif variant == "harness":
                child.run_child({**header, "scratch": str(scratch)}, no_cases, sink, os.dup(sink), prepared)
            os._exit(0)
        os.close(sink)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit(f"{variant} child failed with status {status}")
        shutil.rmtree(scratch, ignore_errors=True)
        runs += 1
    elapsed = time.perf_counter() - started
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"runs": runs, "elapsed": elapsed}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--worker", nargs=2, metavar=("VARIANT", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], float(args.worker[1]))
        return
    for variant in args.variants:
        rate = measure(args.jobs, args.seconds, variant)
        print(f"{variant:8s} {args.jobs} jobs: {rate:6.1f} runs/s = at most {rate / RUNS_PER_SUBMISSION:5.1f} "
              f"submissions/s at {RUNS_PER_SUBMISSION} runs each")


if __name__ == "__main__":
    main()
