"""Benchmark: what forking children allows on this machine, before the grading parent does any work.

    python bench/fork_ceiling.py [--jobs 2] [--seconds 5] [--variants ...]

With ``--isolate exercise`` (today's only mode) each exercise of each submission runs in its own
child, so a submission costs six forks of a process that has imported torch. This starts
``--jobs`` processes set up exactly like `grader grade`'s zygotes
(``grader.runner.zygote.start(warm=True)``: torch, one thread, huge pages), and has
them all work as fast as they can for ``--seconds``, one submission after
another, in these variants:

- ``bare``: six children per submission that exit at once (fork + exit);
- ``sandbox``: six children that also call ``grader.runner.sandbox.enter`` in a fresh
  scratch directory (rlimits, Landlock, uid drop, seccomp), as every real
  child does;
- ``harness``: six children running ``grader.runner.child.run_child`` on a one-line
  function with no cases (everything a real child does but torch work);
- ``exercises``: six children running ``run_child`` on the real exercises
  (the correct fixture submission on every public and hidden case), their
  result frames read back and parsed — what `grader grade`'s children do;
- ``one-child``: the same six exercises in *one* sandboxed child, as a
  child-per-submission runner would run them (one exercise's monkey-patching
  could then reach the next of the same student; see docs/isolation.md).

It prints submissions (and children) per second over all jobs. `grader grade`
also compares every result in the parent and writes files, so it stays below
the ``exercises`` figure; `bench/grade_throughput.py` runs this after its own
measurements so the two can be read side by side.
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
VARIANTS = ("bare", "sandbox", "harness", "exercises", "one-child")
EXERCISES_PER_SUBMISSION = 6


def measure(jobs: int, seconds: float, variant: str) -> float:
    """Submissions per second of ``variant`` with ``jobs`` zygote-like processes working at once."""
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
    return sum(r["submissions"] for r in results) / max(r["elapsed"] for r in results)


def worker(variant: str, seconds: float) -> None:
    sys.path.insert(0, str(REPO))
    # Imported before zygote.start(), which takes the course folder off the import path.
    from grader.runner import child, sandbox, wire as protocol, zygote
    from grader.core.cases import build_cases
    from grader.core.course import find_course
    from grader.runner.pool import RunRequest, request_header

    prepared = zygote.start(warm=True)
    course = find_course(REPO)
    correct = REPO / "tests" / "fixtures" / "submissions" / "correct"
    requests = []  # what grader.core.pipeline asks the pool for, on the correct submission
    for definition in course.exercises:
        cases = build_cases(definition, course.config.seed, include_hidden=True)
        requests.append(RunRequest(definition.id, definition.protocol, definition.function,
                                   (correct / definition.filename).read_text(encoding="utf-8"), definition.filename,
                                   tuple(case.input for case in cases), timeout=10, memory_mb=1024))
    trivial = RunRequest("ex03", requests[0].protocol, "f", "def f(x):\n    return x\n", "ex03.py", (), 10, 1024)
    # Inputs serialised here, once: the grading parent does it, not the children being timed.
    exercises = [(request, protocol.dump(list(request.inputs))) for request in requests]
    harness = (trivial, protocol.dump([]))
    policy = {"readable": (), "memory_bytes": 1 << 30, "cpu_seconds": 11}
    workdir = Path(tempfile.mkdtemp(prefix="grader-ceiling-"))
    os.chmod(workdir, 0o711)  # the sandboxed child runs as another uid and must reach its scratch
    print("ready", flush=True)
    sys.stdin.readline()

    def child_body(scratch: Path, result_w: int) -> None:
        """What one child does in ``variant``; it never returns."""
        if variant == "sandbox":
            os.setsid()
            sandbox.enter(prepared, sandbox.Policy(scratch=str(scratch), **policy))
        elif variant in ("harness", "exercises"):
            request, payload = harness if variant == "harness" else exercises[runs % EXERCISES_PER_SUBMISSION]
            child.run_child(request_header(request, scratch), payload, result_w, os.open(os.devnull, os.O_WRONLY),
                            prepared)
        elif variant == "one-child":
            os.setsid()
            child._close_other_fds(keep=(0, 1, 2, result_w))
            sandbox.enter(prepared, sandbox.Policy(scratch=str(scratch), **policy))
            results = [child._run(request_header(request, scratch), payload) for request, payload in exercises]
            child._write_all(result_w, protocol.frame(protocol.dump([protocol.result_data(r) for r in results])))
        os._exit(0)

    runs, submissions, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(1 if variant == "one-child" else EXERCISES_PER_SUBMISSION):
            scratch = workdir / f"run-{runs}"
            scratch.mkdir(mode=0o700)
            result_r, result_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(result_r)
                child_body(scratch, result_w)
            os.close(result_w)
            frame = bytearray()
            while chunk := os.read(result_r, 1 << 16):
                frame += chunk
            os.close(result_r)
            _, status = os.waitpid(pid, 0)
            if status != 0:
                raise SystemExit(f"a {variant} child failed with status {status}")
            if variant in ("exercises", "one-child"):
                protocol.load(protocol.unframe(bytes(frame)))  # what the grading parent reads back
            shutil.rmtree(scratch, ignore_errors=True)
            runs += 1
        submissions += 1
    elapsed = time.perf_counter() - started
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"submissions": submissions, "elapsed": elapsed}), flush=True)


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
        children = rate * (1 if variant == "one-child" else EXERCISES_PER_SUBMISSION)
        print(f"{variant:9s} {args.jobs} jobs: {rate:5.1f} submissions/s ({children:6.1f} children/s)", flush=True)


if __name__ == "__main__":
    main()
