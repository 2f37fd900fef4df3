"""``grader grade``: a whole class, isolated, parallel and resumable.

Per run: the plan (cases and reference runs) is computed once, in this
trusted process. Then each submission is read (as bytes, never executed
here), each of its exercises runs in its own sandboxed child via the worker
pool, and its results are written atomically: ``results.json`` first, then
``grade.json``, whose key marks the submission done. A run killed at any
moment and started again regrades only submissions without a matching
``grade.json``, so its final outputs equal an uninterrupted run's.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import grader
from grader.core import pipeline, records, submissions
from grader.atomic import write_atomic
from grader.core.course import Course
from grader.errors import UsageError
from grader.runner.pool import Pool
from grader.render.progress import Progress
from grader.core.records import GradeRecord
from grader.core.exercises import EXERCISE_IDS
from grader.render.gradescope import results_json
from grader.render.report import canvas_csv, grades_csv, summary_json
from grader.core.results import SubmissionResult


@dataclass(frozen=True)
class GradeOptions:
    """How ``grade`` was asked to run."""

    out: Path
    jobs: int
    lang: str
    timeout: float | None = None
    """Overrides every exercise's time budget when set."""
    public_only: bool = False
    force: bool = False


@dataclass(frozen=True)
class BatchReport:
    """What a grading run did."""

    records: tuple[GradeRecord, ...]
    graded: int
    resumed: int
    layers: dict


def grade_class(course: Course, folders: list[Path], options: GradeOptions, pool: Pool) -> BatchReport:
    """Grade every submission in ``folders`` into ``options.out``."""
    found = submissions.discover(folders)
    if not found:
        raise UsageError(
            "no submissions found in " + ", ".join(str(f) for f in folders)
            + "; expected one folder, .zip or .ipynb per student."
        )
    _check_out_folder(options.out, folders)
    _sweep_temporaries(options.out, found)
    plans = pipeline.plan(course, EXERCISE_IDS, include_hidden=not options.public_only)
    if options.timeout is not None:
        plans = tuple(replace(p, config=replace(p.config, timeout=options.timeout)) for p in plans)
    base_key = _run_key(course, options)

    done: dict[str, GradeRecord] = {}
    todo: list[submissions.Submission] = []
    for submission in found:
        existing = records.load(options.out / submission.name / records.RECORD_NAME)
        if existing is not None and not options.force and existing.key == _key(base_key, submissions.read(submission)):
            done[submission.name] = existing
        else:
            todo.append(submission)

    layers = pool.layers()
    # A bounded window of submissions in flight: the parent's memory stays flat however large the class.
    window = max(2, options.jobs * 4)
    in_flight: deque = deque()
    with Progress(len(found), already=len(done)) as progress, \
            ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="grade") as executor:

        def finish_oldest() -> None:
            future, key, canvas_id = in_flight.popleft()
            result = future.result()
            record = records.from_result(result, key, canvas_id)
            _write_submission(options.out / result.name, result, record, course, options.lang)
            done[result.name] = record
            progress.advance(result.name, f"{record.total:g}/{course.config.max_points:g}")

        for submission in todo:
            files = submissions.read(submission)
            future = executor.submit(pipeline.grade_files, files, plans, pool)
            in_flight.append((future, _key(base_key, files), submission.canvas_id))
            del files, future
            if len(in_flight) >= window:
                finish_oldest()
        while in_flight:
            finish_oldest()

    ordered = tuple(done[s.name] for s in found)
    write_atomic(options.out / "grades.csv", grades_csv(ordered, EXERCISE_IDS))
    if any(r.canvas_id for r in ordered):
        write_atomic(options.out / "canvas.csv", canvas_csv(ordered, course.config))
    summary = summary_json(ordered, course.config, layers, hidden=not options.public_only)
    write_atomic(options.out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return BatchReport(ordered, len(todo), len(found) - len(todo), layers)


def _key(base_key: str, files: submissions.SubmissionFiles) -> str:
    """The resume key: this run's settings and this submission's content."""
    return hashlib.sha256(f"{base_key}/{files.digest()}".encode()).hexdigest()


def _write_submission(folder: Path, result: SubmissionResult, record: GradeRecord, course: Course, lang: str) -> None:
    document = results_json(result, course.config, lang)
    write_atomic(folder / records.RESULTS_NAME, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    if any(e.problem is not None and e.problem.key == "sandbox_failed" for e in result.exercises):
        # The grader failed here, not the student: leave it unmarked so the next run grades it again.
        (folder / records.RECORD_NAME).unlink(missing_ok=True)
        return
    # Written last: its presence with a matching key is what marks this submission done.
    write_atomic(folder / records.RECORD_NAME, records.dumps(record) + "\n")


def _run_key(course: Course, options: GradeOptions) -> str:
    """Everything besides the submission that changes a grade: config, references, grader, options."""
    hasher = hashlib.sha256()
    hasher.update(course.config.digest.encode())
    hasher.update(grader.__version__.encode())
    solutions = course.root / "solutions"
    for path in sorted(solutions.glob("*.py")) if solutions.is_dir() else ():
        hasher.update(path.name.encode() + b"\0" + path.read_bytes())
    hasher.update(json.dumps([options.lang, options.timeout, options.public_only]).encode())
    return hasher.hexdigest()


def _sweep_temporaries(out: Path, found: tuple[submissions.Submission, ...]) -> None:
    """Remove the ``.<name>.*.tmp`` files a killed run left behind (SIGKILL skips write_atomic's cleanup).

    Added by the batch tests: without it a run killed mid-write left stray temporaries for good.
    """
    targets = [(out, ("grades.csv", "summary.json"))]
    targets += [(out / s.name, (records.RESULTS_NAME, records.RECORD_NAME)) for s in found]
    for folder, names in targets:
        for name in names:
            for stale in folder.glob(f".{name}.*.tmp"):
                try:
                    stale.unlink()
                except OSError:
                    pass


def _check_out_folder(out: Path, folders: list[Path]) -> None:
    resolved = out.resolve()
    for folder in folders:
        inside = folder.resolve()
        if resolved == inside or inside in resolved.parents:
            raise UsageError(
                f"{out}: the output folder is inside the submissions folder {folder}; "
                "choose one outside it (the grader never writes into submissions)."
            )
    if resolved.exists() and not resolved.is_dir():
        raise UsageError(f"{out}: exists and is not a folder.")
    try:
        resolved.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{out}: cannot create the output folder ({error.strerror}).") from None
    if not os.access(resolved, os.W_OK):
        raise UsageError(f"{out}: the output folder is not writable.")
