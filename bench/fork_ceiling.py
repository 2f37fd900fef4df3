"""Benchmark: what forking children allows on this machine, before the grading parent does any work.

    python bench/fork_ceiling.py [--jobs 2] [--seconds 5] [--variants ...]

`grader grade` runs a submission's exercises in one child (``--isolate submission``, the default), or
each in its own (``--isolate exercise``: six forks of a process that has imported torch). This starts
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
- ``exercises``: six children running ``run_child`` on one real exercise each
  (the correct fixture submission on every public and hidden case), their
  result frames read back and parsed — `grade --isolate exercise`'s children;
- ``one-child``: the same six exercises in *one* sandboxed child, as
  ``--isolate submission`` runs them (before any rerun of an exercise short of
  full marks).

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
    import fcntl

    from grader.core.cases import build_cases
    from grader.core.course import find_course
    from grader.runner import child, sandbox, wire, zygote
    from grader.runner.sandbox import uids
    from grader.runner.slot import Slot

    prepared = zygote.start(warm=True)
    lease = uids.reserve(1)
    slot = Slot(lease.uids[0])
    course = find_course(REPO)
    correct = REPO / "tests" / "fixtures" / "submissions" / "correct"
    exercises = []  # what grader.core.pipeline asks the pool for, on the correct submission
    for spec in course.exercises:
        cases = build_cases(spec, course.config.seed, include_hidden=True)
        exercises.append(wire.JobExercise(spec.id, spec.protocol, spec.function, f"submission_{spec.id}",
                                          (correct / spec.filename).read_text(encoding="utf-8"), spec.filename,
                                          tuple(case.input for case in cases)))
    trivial = wire.JobExercise("ex03", "call", "f", "submission_ex03", "def f(x):\n    return x\n", "ex03.py", ())
    # Jobs serialised here, once: the grading parent does it, not the children being timed.
    jobs = {"harness": [wire.pack_job(wire.Job((trivial,)))],
            "exercises": [wire.pack_job(wire.Job((e,))) for e in exercises],
            "one-child": [wire.pack_job(wire.Job(tuple(exercises)))]}
    workdir = Path(tempfile.mkdtemp(prefix="grader-ceiling-"))
    os.chmod(workdir, 0o711)  # the sandboxed child runs as another uid and must reach its scratch
    print("ready", flush=True)
    sys.stdin.readline()

    def child_body(scratch: Path, events_w: int, job_r: int) -> None:
        """What one child does in ``variant``; it never returns."""
        count = len(exercises) if variant == "one-child" else 1
        order = wire.RunOrder(scratch=str(scratch), wall_seconds=60.0, cpu_seconds=60, memory_mb=1024, readable=(),
                              exercises=count)
        if variant == "sandbox":
            os.setsid()
            sandbox.enter(prepared, slot.policy(order))
        elif variant in jobs:
            outputs = tuple(os.open(os.devnull, os.O_WRONLY) for _ in range(count))
            child.run_child(order, child.ChildPipes(job_r, events_w, os.open(os.devnull, os.O_WRONLY), outputs),
                            prepared, slot)
        os._exit(0)

    runs, submissions, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(1 if variant == "one-child" else EXERCISES_PER_SUBMISSION):
            scratch = workdir / f"run-{runs}"
            scratch.mkdir(mode=0o700)
            events_r, events_w = os.pipe()
            job_r, job_w = os.pipe()
            if variant in jobs:
                job = jobs[variant][runs % len(jobs[variant])]
                fcntl.fcntl(job_w, fcntl.F_SETPIPE_SZ, 1 << 20)  # the whole job fits: no writer thread here
                os.write(job_w, job)
            os.close(job_w)
            pid = os.fork()
            if pid == 0:
                os.close(events_r)
                child_body(scratch, events_w, job_r)
            os.close(events_w)
            os.close(job_r)
            frames = bytearray()
            while chunk := os.read(events_r, 1 << 16):
                frames += chunk
            os.close(events_r)
            _, status = os.waitpid(pid, 0)
            if status != 0:
                raise SystemExit(f"a {variant} child failed with status {status}")
            while frames:  # what the grading parent reads back
                length = wire.frame_length(frames)
                wire.load(wire.unframe(bytes(frames[:length])))
                del frames[:length]
            shutil.rmtree(scratch, ignore_errors=True)
            runs += 1
        submissions += 1
    elapsed = time.perf_counter() - started
    shutil.rmtree(workdir, ignore_errors=True)
    lease.release()
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
