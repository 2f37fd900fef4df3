"""``grader list``: every exercise with its title, points and this copy's status."""

from __future__ import annotations

from grader.commands.check import check, source_paths, warn_missing_layers
from grader.commands.exit_codes import EXIT_OK
from grader.core.course import find_course
from grader.i18n import resolve_language
from grader.render.listing import render_listing
from grader.runner.pool import Pool


def run(args) -> int:
    course = find_course(args.course)
    lang = resolve_language(args.lang, course.config.language)
    exercise_ids = course.config.exercise_ids
    with Pool(jobs=1) as pool:
        # The status is the public checks' verdict on this copy's files, so it is never stale.
        result = check(course, exercise_ids, source_paths(course, exercise_ids, None), pool).result
        warn_missing_layers(pool)
    print(render_listing(result, course.config, lang), end="")
    return EXIT_OK
