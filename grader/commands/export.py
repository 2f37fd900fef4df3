"""``grader export otter OUT``: the checks as an otter-grader autograder (Gradescope)."""

from __future__ import annotations

from grader.commands.exit_codes import EXIT_OK
from grader.core.course import find_course


def run(args) -> int:
    from grader.lms.otter_export import export_otter

    course = find_course(args.course)
    zip_path = export_otter(course, args.out)
    print(f"otter-grader autograder written to {args.out}/ ; upload {zip_path} to Gradescope, "
          f"or try it locally: otter run -a {zip_path} SUBMISSION")
    return EXIT_OK
