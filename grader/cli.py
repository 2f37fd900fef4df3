"""The ``grader`` command line: argument parsing and exit codes; the work lives in the modules it calls.

Exit codes (SPEC §3): 0 success (``check``: every check passed), 1 checks
failed, 2 usage or configuration error — always one sentence, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from grader.errors import GraderError, UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description="Check and grade the autograd exercises of Dive into Deep Learning (《动手学深度学习》).",
    )
    parser.add_argument("--course", type=Path, help="the course folder (default: the nearest one up from here)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    listing = commands.add_parser("list", help="exercises with title, points and this copy's status")
    listing.add_argument("--lang", choices=("zh", "en"), help="feedback language (default: config, then locale)")

    check = commands.add_parser("check", help="run the public checks on your exercise files")
    check.add_argument("exercises", nargs="*", metavar="EX", help="ex01 ... ex06 (default: all)")
    check.add_argument("--file", type=Path, help="check this file instead of exercises/EX*.py (one EX)")
    check.add_argument("--lang", choices=("zh", "en"), help="feedback language (default: config, then locale)")
    check.add_argument("--json", action="store_true", help="print results.json (Gradescope schema) instead")
    check.add_argument("--plot", action="store_true", help="ex06: save a PNG of sin, your derivative and cos")
    check.add_argument("-v", "--verbose", action="store_true", help="show every failing case, not just the first")

    grade = commands.add_parser("grade", help="grade a class's submissions into OUT (instructors)")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSIONS",
                       help="folders holding one folder, .zip or .ipynb per student")
    grade.add_argument("-o", "--out", type=Path, required=True, help="where results go (created if missing)")
    grade.add_argument("--jobs", type=_positive(int), default=os.cpu_count() or 1,
                       help="exercises graded at once (default: the number of cores)")
    grade.add_argument("--timeout", type=_positive(float), help="seconds per exercise run (overrides config.yaml)")
    grade.add_argument("--public-only", action="store_true", help="grade the public cases only")
    grade.add_argument("--lang", choices=("zh", "en"), help="feedback language (default: config, then locale)")
    grade.add_argument("--force", action="store_true", help="regrade every submission, even unchanged ones")

    dist = commands.add_parser("dist", help="write the student copy of the course to OUT (no solutions)")
    dist.add_argument("out", type=Path, metavar="OUT")

    export = commands.add_parser("export", help="export the checks to another grading system")
    export.add_argument("system", choices=("otter",), help="otter: an otter-grader autograder (Gradescope)")
    export.add_argument("out", type=Path, metavar="OUT")
    return parser


def _positive(kind: type):
    """An argparse type: a number of ``kind`` above zero, or a one-line error."""

    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a {'whole ' if kind is int else ''}number") from None
        if not (number > 0 and math.isfinite(number)):
            raise argparse.ArgumentTypeError("must be a finite number more than 0")
        return number

    return parse


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``grader`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _list(args)
        if args.command == "check":
            return _check(args)
        if args.command == "grade":
            return _grade(args)
        if args.command == "dist":
            return _dist(args)
        if args.command == "export":
            return _export(args)
    except GraderError as error:
        from grader.i18n import error_sentence

        print(f"grader: {error_sentence(error, getattr(args, 'lang', None), args.course)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


def _list(args: argparse.Namespace) -> int:
    from grader.core.course import find_course
    from grader.i18n import resolve_language
    from grader.core.exercises import EXERCISE_IDS

    course = find_course(args.course)
    lang = resolve_language(args.lang, course.config.language)
    paths = _source_paths(course, EXERCISE_IDS, None)
    from grader.runner.pool import Pool

    with Pool(jobs=1) as pool:
        from grader.commands import check as checking
        from grader.render.listing import render_listing

        # The status is the public checks' verdict on this copy's files, so it is never stale.
        result = checking.check(course, EXERCISE_IDS, paths, pool).result
    print(render_listing(result, course.config, lang), end="")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from grader.core.course import find_course
    from grader.i18n import resolve_language

    course = find_course(args.course)
    lang = resolve_language(args.lang, course.config.language)
    exercise_ids = _exercises_for(args)
    paths = _source_paths(course, exercise_ids, args.file)

    from grader.runner.pool import Pool  # starts the zygote before this process pays for torch's import

    with Pool(jobs=1) as pool:
        from grader.commands import check as checking
        from grader.render import plots

        checked = checking.check(course, exercise_ids, paths, pool)
        _warn_missing_layers(pool)
        result = checked.result
        if args.json:
            from grader.render.gradescope import results_json

            print(json.dumps(results_json(result, course.config, lang), ensure_ascii=False, indent=2))
        else:
            from grader.render.terminal import render_submission

            print(render_submission(result, course.config, lang, verbose=args.verbose, color=_color()), end="")
        if args.plot:
            from grader.i18n import text

            for path in plots.write_plots(checked, course.root, lang):
                print(text("ui.plot_written", lang, path=path), file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK if result.passed else EXIT_FAILED


def _grade(args: argparse.Namespace) -> int:
    from grader.core.course import find_course
    from grader.i18n import resolve_language

    course = find_course(args.course)
    lang = resolve_language(args.lang, course.config.language)
    from grader.runner.pool import Pool  # workers import torch while this process does

    with Pool(jobs=args.jobs, warm=True) as pool:
        from grader.commands.grade import GradeOptions, grade_class

        _warn_missing_layers(pool)
        options = GradeOptions(out=args.out, jobs=args.jobs, lang=lang, timeout=args.timeout,
                               public_only=args.public_only, force=args.force)
        report = grade_class(course, list(args.submissions), options, pool)
    print(f"graded {report.graded} submission(s), {report.resumed} unchanged since the last run; "
          f"results in {args.out}/ (grades.csv, summary.json, <submission>/results.json)")
    return EXIT_OK


def _dist(args: argparse.Namespace) -> int:
    from grader.core.course import find_course
    from grader.commands.dist import make_dist

    course = find_course(args.course)
    written = make_dist(course, args.out)
    print(f"student copy written to {args.out}/ ({len(written)} files; no solutions/, no hidden cases)")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from grader.core.course import find_course
    from grader.lms.otter_export import export_otter

    course = find_course(args.course)
    zip_path = export_otter(course, args.out)
    print(f"otter-grader autograder written to {args.out}/ ; upload {zip_path} to Gradescope, "
          f"or try it locally: otter run -a {zip_path} SUBMISSION")
    return EXIT_OK


def _warn_missing_layers(pool) -> None:
    """Say once, plainly, which isolation layers this machine lacks."""
    missing = pool.layers().get("missing") or []
    for reason in missing:
        print(f"grader: isolation: {reason}", file=sys.stderr)


def _exercises_for(args: argparse.Namespace) -> tuple[str, ...]:
    from grader.core.course import select_exercises
    from grader.core.exercises import resolve_exercise

    if args.file is not None and not args.exercises:
        guessed = resolve_exercise(args.file.name.split("_")[0])
        if guessed is None:
            raise UsageError.worded("error.which_exercise", file=args.file)
        return (guessed,)
    chosen = select_exercises(args.exercises)
    if args.file is not None and len(chosen) != 1:
        raise UsageError.worded("error.file_needs_one")
    return chosen


def _source_paths(course, exercise_ids: tuple[str, ...], file: Path | None) -> dict[str, Path]:
    if file is not None:
        if not file.is_file():
            raise UsageError.worded("error.no_such_file", file=file)
        return {exercise_ids[0]: file}
    return {exercise_id: course.exercise_file(exercise_id) for exercise_id in exercise_ids}


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


if __name__ == "__main__":
    sys.exit(main())
