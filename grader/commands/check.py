"""``grader check``: the public checks on a student's own files (terminal, JSON, notebook), and plots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from grader.commands.exit_codes import EXIT_FAILED, EXIT_OK
from grader.core.course import Course
from grader.core.results import SubmissionResult
from grader.errors import UsageError
from grader.runner.pool import Pool

# torch-dependent modules (pipeline and everything it grades with) are imported inside check(): the
# command line starts its zygote first and imports torch afterwards, so the two imports overlap.
if TYPE_CHECKING:
    from grader.core.pipeline import ExercisePlan
    from grader.runner.pool import RunResult


@dataclass(frozen=True)
class CheckRun:
    """A check's results, with the plans and raw runs a plot needs."""

    result: SubmissionResult
    plans: tuple[ExercisePlan, ...]
    runs: tuple[RunResult | None, ...]


def check(course: Course, exercise_ids: tuple[str, ...], paths: dict[str, Path], pool: Pool, *,
          notebook: bool = False) -> CheckRun:
    """Run the public cases of ``exercise_ids`` on the files at ``paths``, all of them in one child (any
    exercise short of full marks again alone, as ``grade`` does). ``notebook``: called by ``grader.check()``,
    whose files a ``%%writefile`` cell may have written."""
    from grader.core import pipeline

    plans = pipeline.plan(course, exercise_ids, include_hidden=False)
    files = [read_source(p.spec, paths[p.spec.id], display_path(paths[p.spec.id]), notebook) for p in plans]
    graded = pipeline.run_and_grade(plans, files, pool)
    results = tuple(on_grading_grid(course, plan.spec, result) for plan, (_, result) in zip(plans, graded))
    return CheckRun(SubmissionResult("check", results), plans, tuple(run for run, _ in graded))


def on_grading_grid(course: Course, spec, result):
    """The public result with the points grading gives its public cases, so ``check`` and ``grade`` show the
    same number for the same outcome; what hidden cases decide is left out of the score."""
    from grader.core import reference, scoring

    # A student copy has no hidden case lists; `grader dist` keeps hidden_weight only where the
    # instructor's course has hidden cases (0 elsewhere), and a copy has no solutions/.
    hidden_in_course = bool(spec.hidden) or not reference.has_solutions(course.root)
    if not scoring.hidden_pending(spec, hidden_in_course):
        return result
    return scoring.public_preview(result, spec)


def read_source(spec, path: Path, display: str, notebook: bool):
    """The exercise file as the grader reads it; in a notebook, with the line numbers of the cell that wrote it."""
    from grader.core import sources
    from grader.core.notebook_cells import writefile_prefix

    prefix = writefile_prefix(path) if notebook else None
    if prefix is None:
        return sources.read(spec, path, display)
    try:
        data = path.read_bytes()
    except OSError:
        return sources.read(spec, path, display)  # says why, as on the command line
    return sources.from_bytes(spec, display, prefix + data)


def display_path(path: Path) -> str:
    """The path as the student would type it: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def check_for_notebook(exercises: tuple[str, ...], *, lang: str | None, course: Path | None, verbose: bool,
                       plot: bool = False):
    """``grader.check(...)`` in Jupyter: the same checks as the command line, rendered for a notebook.

    Runs on the kernel's warm pool (``grader.commands.session.SESSION``), so only the first call pays
    for starting a zygote; the course is read afresh each call, so an edited config.yaml counts at once.
    """
    from grader.commands.session import SESSION
    from grader.core.course import find_course, select_exercises
    from grader.errors import GraderError
    from grader.commands.error_words import error_sentence
    from grader.i18n import resolve_language
    from grader.render.notebook import NotebookReport
    from grader.render.terminal import render_submission

    try:
        found = find_course(course)
        chosen = select_exercises(found.config, list(exercises))
        paths = {exercise_id: found.exercise_file(exercise_id) for exercise_id in chosen}
        with SESSION.borrow() as pool:
            checked = check(found, chosen, paths, pool, notebook=True)
            missing = pool.layers().get("missing") or []
    except GraderError as error:  # a sentence in the notebook, as on the command line, not a traceback
        return NotebookReport(text=f"grader: {error_sentence(error, lang, course)}", passed=False)
    result = checked.result
    language = resolve_language(lang, found.config.language)
    images: tuple[Path, ...] = ()
    if plot:
        from grader.render import plots

        images = tuple(plots.write_plots(checked, found.root, language))
    text = render_submission(result, found.config, language, verbose=verbose, color=False, where="notebook")
    text += "".join(f"grader: isolation: {reason}\n" for reason in missing)  # as on the command line
    return NotebookReport(text=text, passed=result.passed, images=images)


def run(args) -> int:
    """``grader check [EX ...] [--file PATH] [--lang] [--json] [--plot] [-v]``."""
    import json
    import sys

    from grader.core.course import find_course
    from grader.i18n import resolve_language, text

    course = find_course(args.course)
    lang = resolve_language(args.lang, course.config.language)
    exercise_ids = exercises_for(course, args.exercises, args.file)
    paths = source_paths(course, exercise_ids, args.file)

    with Pool(jobs=1) as pool:
        checked = check(course, exercise_ids, paths, pool)
        warn_missing_layers(pool)
        result = checked.result
        if args.json:
            from grader.render.gradescope import results_json

            print(json.dumps(results_json(result, course.config, lang), ensure_ascii=False, indent=2))
        else:
            from grader.render.terminal import render_submission

            print(render_submission(result, course.config, lang, verbose=args.verbose, color=use_color()), end="")
        if args.plot:
            from grader.render import plots

            for path in plots.write_plots(checked, course.root, lang):
                print(text("ui.plot_written", lang, path=path), file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK if result.passed else EXIT_FAILED


def exercises_for(course: Course, names: list[str], file: Path | None) -> tuple[str, ...]:
    """The exercises a ``check`` names, or the one ``--file`` is (guessed from its name when none is named)."""
    from grader.core.course import select_exercises

    if file is not None and not names:
        guessed = course.config.resolve(file.name.split("_")[0])
        if guessed is None:
            raise UsageError.worded("error.which_exercise", file=file)
        return (guessed,)
    chosen = select_exercises(course.config, names)
    if file is not None and len(chosen) != 1:
        raise UsageError.worded("error.file_needs_one")
    return chosen


def source_paths(course: Course, exercise_ids: tuple[str, ...], file: Path | None) -> dict[str, Path]:
    if file is not None:
        if not file.is_file():
            raise UsageError.worded("error.no_such_file", file=file)
        return {exercise_ids[0]: file}
    return {exercise_id: course.exercise_file(exercise_id) for exercise_id in exercise_ids}


def warn_missing_layers(pool: Pool) -> None:
    """Say once, plainly, which isolation layers this machine lacks."""
    import sys

    for reason in pool.layers().get("missing") or []:
        print(f"grader: isolation: {reason}", file=sys.stderr)


def use_color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR or TERM=dumb."""
    import sys

    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
