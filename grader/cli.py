"""The ``grader`` command line: argument parsing; each command's work lives in ``grader.commands.<name>``.

Exit codes are in grader.commands.exit_codes: 0 success (``check``: every
check passed), 1 checks failed, 2 usage or configuration error — always one
sentence, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from pathlib import Path

from grader.commands.exit_codes import EXIT_INTERRUPTED, EXIT_USAGE
from grader.errors import GraderError

_COMMANDS = {"list": "listing", "check": "check", "grade": "grade", "dist": "dist", "export": "export"}
"""Each command's module in grader.commands; imported only when run, so ``grader --help`` stays fast."""


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
    check.add_argument("--watch", action="store_true", help="keep running: re-check an exercise each time you save it")

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
    grade.add_argument("--isolate", choices=("submission", "exercise"), default="submission",
                       help="submission (default): one sandboxed child per submission, every exercise short of "
                            "full marks again alone; exercise: one child per exercise")

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
        command = _COMMANDS.get(args.command)
        if args.command == "check" and args.watch:
            command = "watch"  # grader.commands.watch: the same checks, repeated on every save
        if command is not None:
            return importlib.import_module(f"grader.commands.{command}").run(args)
    except GraderError as error:
        from grader.commands.error_words import error_sentence

        print(f"grader: {error_sentence(error, getattr(args, 'lang', None), args.course)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
