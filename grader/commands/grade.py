"""``grader grade``: a whole class, isolated, parallel and resumable.

Per run: the plan (cases and reference runs) is computed once, in this
trusted process. Then each submission is read (as bytes, never executed
here), its exercises run in a sandboxed child of the worker pool (one child
per submission, or per exercise with ``--isolate exercise``: see
grader.core.pipeline), and its results are written atomically: ``results.json`` first, then
``grade.json``, whose key marks the submission done. A run killed at any
moment and started again regrades only submissions without a matching
``grade.json``, so its final outputs equal an uninterrupted run's.

Where results go: OUT holds the run's own files (grades.csv, summary.json,
canvas.csv: RUN_FILES) and one folder per submission, ``OUT/<name>/``
(results.json, grade.json), named as the submission is shown (any byte string
is a name: see grader.core.submissions). A name that cannot be its own folder
(one of RUN_FILES in any case, a name starting with ``.``, or one longer than
255 bytes) gets ``OUT/_<name>/`` instead, cut and given a hash when too long,
with ``~2``, ``~3``, ... while that folder belongs to another submission; so a
submission called ``grades.csv`` is written to ``OUT/_grades.csv/`` and can
never collide with the run's files or another student's folder. Each
``grade.json`` records its submission's name, and a run resumes a submission
only from a record of that name.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal
from pathlib import Path

import grader
from grader.atomic import write_atomic
from grader.commands.exit_codes import EXIT_GRADER_FAILED, EXIT_OK, EXIT_OUTPUT_FAILED
from grader.core import records, submission_names, submissions
from grader.core.course import Course, find_course
from grader.core.records import GradeRecord
from grader.core.results import SubmissionResult
from grader.errors import UsageError
from grader.i18n import resolve_language
from grader.render.canvas_csv import canvas_csv
from grader.render.grades_csv import grades_csv
from grader.render import report_html
from grader.render.progress import Progress
from grader.render.summary import summary_json
from grader.runner.pool import Pool

_KEEP_READ_BYTES = 1 << 20
"""A submission read for its resume key is kept for grading up to this size (then read again)."""
GRADES_CSV = "grades.csv"
SUMMARY_JSON = "summary.json"
CANVAS_CSV = "canvas.csv"
REPORT_HTML = "report.html"
RUN_FILES = (GRADES_CSV, SUMMARY_JSON, CANVAS_CSV, REPORT_HTML)
"""Every file ``grade`` writes at the top level of OUT: no submission's folder may take one of these names."""

# grader.core.pipeline and grader.render.gradescope import torch: they are imported where they are used,
# after run() has started the workers, so the workers' torch import overlaps this process's.


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
    isolate: Literal["submission", "exercise"] = "submission"
    """submission: one child per submission, exercises short of full marks again alone; exercise: a child
    per exercise (grader.core.pipeline.Isolation)."""


@dataclass(frozen=True)
class BatchReport:
    """What a grading run did."""

    records: tuple[GradeRecord, ...]
    graded: int
    resumed: int
    layers: dict
    grader_failures: tuple[str, ...] = ()
    """Submissions the grader failed on through its own fault (not recorded as final)."""


def grade_class(course: Course, folders: list[Path], options: GradeOptions, pool: Pool) -> BatchReport:
    """Grade every submission in ``folders`` into ``options.out``."""
    found = submissions.discover(folders)
    if not found:
        raise UsageError(
            "no submissions found in " + ", ".join(str(f) for f in folders)
            + "; expected one folder, .zip or .ipynb per student."
        )
    from grader.core import pipeline

    _check_out_folder(options.out, folders)
    folders_of = submission_names.result_folders(found, RUN_FILES)
    _sweep_temporaries(options.out, folders_of.values())
    plans = pipeline.plan(course, course.config.exercise_ids, include_hidden=not options.public_only)
    if options.timeout is not None:
        plans = pipeline.with_timeout(plans, options.timeout)
    base_key = _run_key(course, options)

    done: dict[str, GradeRecord] = {}
    failed: list[str] = []
    todo: list[tuple[submissions.Submission, submissions.SubmissionFiles | None]] = []
    for submission in found:
        existing = records.load(options.out / folders_of[submission.name] / records.RECORD_NAME)
        # The name too: a folder can pass from one submission to another (``_x`` to ``_x~2``) when the class changes.
        if existing is None or options.force or existing.name != submission.name:
            todo.append((submission, None))
            continue
        files = submissions.read(submission, course.exercises)
        if existing.key == _key(base_key, files):
            done[submission.name] = existing
        else:  # read once: kept for grading unless keeping every changed submission would cost memory
            todo.append((submission, files if _size(files) <= _KEEP_READ_BYTES else None))

    layers = pool.layers()
    # A bounded window of submissions in flight: the parent's memory stays flat however large the class.
    window = max(2, options.jobs * 4)
    in_flight: deque = deque()
    # Not a `with` block: on Ctrl-C it would wait for the exercises in progress, whose children only
    # stop when the pool closes (after this function has returned); shut down without waiting instead.
    executor = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="grade")
    with Progress(len(found), already=len(done)) as progress:

        def finish_oldest() -> None:
            future, key, canvas_id, folder = in_flight.popleft()
            result = future.result()
            record = records.from_result(result, key, canvas_id)
            _write_submission(options.out / folder, result, record, course, options.lang)
            done[result.name] = record
            if any(e.grader_failed for e in result.exercises):
                failed.append(result.name)
            progress.advance(result.name, f"{record.total:g}/{course.config.max_points:g}")

        try:
            for submission, files in todo:
                files = files or submissions.read(submission, course.exercises)
                # Parsed here, in this one thread: CPython 3.11's parser is not safe to run in several at once.
                parsed = pipeline.parse_sources(files, plans)
                future = executor.submit(pipeline.grade_files, files, plans, pool, options.isolate, parsed)
                in_flight.append((future, _key(base_key, files), submission.canvas_id, folders_of[submission.name]))
                del files, parsed, future
                if len(in_flight) >= window:
                    finish_oldest()
            while in_flight:
                finish_oldest()
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    ordered = tuple(done[s.name] for s in found)
    write_atomic(options.out / GRADES_CSV, grades_csv(ordered, course.config.exercise_ids))
    if any(r.canvas_id for r in ordered):
        write_atomic(options.out / CANVAS_CSV, canvas_csv(ordered, course.config))
    summary = summary_json(ordered, course.config, layers, hidden=not options.public_only,
                           grader_failures=tuple(failed))
    write_atomic(options.out / SUMMARY_JSON, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    checks = report_html.check_tallies(options.out, (folders_of[s.name] for s in found))
    write_atomic(options.out / REPORT_HTML, report_html.report_html(ordered, summary, course.config, options.lang,
                                                                      checks))
    return BatchReport(ordered, len(todo), len(found) - len(todo), layers, tuple(failed))


def _size(files: submissions.SubmissionFiles) -> int:
    return sum(len(data) for _, data in files.files if data is not None)


def _key(base_key: str, files: submissions.SubmissionFiles) -> str:
    """The resume key: this run's settings and this submission's content."""
    return hashlib.sha256(f"{base_key}/{files.digest()}".encode()).hexdigest()


def _write_submission(folder: Path, result: SubmissionResult, record: GradeRecord, course: Course, lang: str) -> None:
    from grader.render.gradescope import results_json

    document = results_json(result, course.config, lang)
    write_atomic(folder / records.RESULTS_NAME, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    if any(e.grader_failed for e in result.exercises):
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
    hasher.update(json.dumps([options.lang, options.timeout, options.public_only, options.isolate]).encode())
    return hasher.hexdigest()


def _sweep_temporaries(out: Path, folders: Iterable[str]) -> None:
    """Remove the ``.<name>.*.tmp`` files a killed run left behind (SIGKILL skips write_atomic's cleanup).

    Added by the batch tests: without it a run killed mid-write left stray temporaries for good.
    """
    targets = [(out, RUN_FILES)]
    targets += [(out / folder, (records.RESULTS_NAME, records.RECORD_NAME)) for folder in folders]
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


def run(args) -> int:
    """``grader grade SUBMISSIONS... -o OUT [--jobs N] [--timeout S] [--public-only] [--lang] [--force]``."""
    course = find_course(args.course)
    lang = resolve_language(args.lang, course.config.language)
    with Pool(jobs=args.jobs, warm=True) as pool:
        # Once, for the instructor: every layer in force and the reason for each one missing.
        print(f"grader: isolation: {pool.layers().get('summary', '?')}", file=sys.stderr)
        options = GradeOptions(out=args.out, jobs=args.jobs, lang=lang, timeout=args.timeout, isolate=args.isolate,
                               public_only=args.public_only, force=args.force)
        try:
            report = grade_class(course, list(args.submissions), options, pool)
        except OSError as error:  # every file is written atomically: what is there is whole
            print(f"grader: cannot write the results under {args.out} ({error.strerror or error}); free some "
                  "space (or make the folder writable) and run the same command again: every submission "
                  "graded so far is kept.", file=sys.stderr)
            return EXIT_OUTPUT_FAILED
    print(f"graded {report.graded} submission(s), {report.resumed} unchanged since the last run; "
          f"results in {args.out}/ (grades.csv, summary.json, report.html, <submission>/results.json)")
    if report.grader_failures:
        names = ", ".join(report.grader_failures[:10]) + (" ..." if len(report.grader_failures) > 10 else "")
        print(f"grader: the grader itself failed on {len(report.grader_failures)} submission(s), not through "
              f"their fault: {names}; their grades are provisional (summary.json: grader_failures) — run the "
              "same grade command again to regrade them.", file=sys.stderr)
        return EXIT_GRADER_FAILED
    return EXIT_OK
