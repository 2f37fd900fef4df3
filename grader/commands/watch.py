"""``grader check --watch``: check once, then re-check an exercise each time its file is saved.

The pool (its zygote has imported torch) and the course outlive one check, so a
re-check costs one sandboxed run, not an interpreter start. Files are polled
with ``os.stat`` (no file-watching dependency): a save is a change of mtime,
size or inode, which also catches editors that save by writing a new file and
renaming it over the old one.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.commands.check import check, display_path, exercises_for, source_paths, use_color, warn_missing_layers
from grader.commands.error_words import error_sentence
from grader.commands.exit_codes import EXIT_OK
from grader.core.course import CONFIG_NAME, Course, find_course
from grader.errors import GraderError, UsageError
from grader.i18n import resolve_language, text
from grader.runner.pool import Pool

POLL_SECONDS = 0.1
"""How often the watched files are stat'ed: a save is answered within about this long plus the check."""
SETTLE_SECONDS = 0.02
"""Pause between noticing a change and reading the file, so a save in several writes is read whole."""
GONE_SECONDS = 1.0
"""How long a file may be missing before saying so: a rename-save leaves it missing for an instant."""
SEPARATOR = "─" * 16


def signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is saved: (mtime in ns, size, inode); None when the file is missing."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def run(args) -> int:
    """``grader check --watch [EX ...] [--file PATH] [--lang] [-v]``; ends with exit 0 on Ctrl-C."""
    if args.json or args.plot:
        raise UsageError.worded("error.watch_alone")
    course = find_course(args.course)  # a broken config at start is the usual one-sentence exit 2
    exercise_ids = exercises_for(course, args.exercises, args.file)
    paths = source_paths(course, exercise_ids, args.file)
    watcher = Watcher(args, course, exercise_ids, paths)
    try:
        with Pool(jobs=1, warm=True) as pool:  # warmed once, so every re-check skips torch's first-use imports
            watcher.pool = pool
            watcher.check(exercise_ids, "watch.checking")
            try:
                warn_missing_layers(pool)
            except GraderError as error:  # a worker that failed to start is replaced at the next check
                watcher.say_error(error)
            while True:
                time.sleep(POLL_SECONDS)
                watcher.poll()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a watch ends; the pool is closed by then
    print(text("watch.stopped", watcher.lang), flush=True)
    return EXIT_OK


@dataclass
class Watcher:
    """The state of one watch: the course as last loaded, the watched files and what each looked like."""

    args: object
    course: Course
    exercise_ids: tuple[str, ...]
    paths: dict[str, Path]
    pool: Pool | None = None
    seen: dict[str, tuple[int, int, int] | None] = field(default_factory=dict)
    gone_since: dict[str, float] = field(default_factory=dict)
    said_gone: set[str] = field(default_factory=set)
    config_seen: tuple[int, int, int] | None = None
    config_ok: bool = True

    def __post_init__(self) -> None:
        self.seen = {exercise_id: signature(path) for exercise_id, path in self.paths.items()}
        self.config_seen = signature(self.config_path)

    @property
    def config_path(self) -> Path:
        return self.course.root / CONFIG_NAME

    @property
    def lang(self) -> str:
        return resolve_language(self.args.lang, self.course.config.language)

    def poll(self) -> None:
        """One look at config.yaml and the watched files; re-check what changed."""
        if signature(self.config_path) != self.config_seen:
            time.sleep(SETTLE_SECONDS)
            self.config_seen = signature(self.config_path)
            self.reload()
            return
        if not self.config_ok:
            return  # nothing can be checked until config.yaml loads again
        changed = [exercise_id for exercise_id in self.exercise_ids if self._saved(exercise_id)]
        if not changed:
            return
        time.sleep(SETTLE_SECONDS)
        for exercise_id in changed:
            # Taken before the check reads the file: a save during the check is seen at the next poll.
            self.seen[exercise_id] = signature(self.paths[exercise_id])
        files = ", ".join(display_path(self.paths[exercise_id]) for exercise_id in changed)
        self.check(tuple(changed), "watch.rechecking", files=files)

    def _saved(self, exercise_id: str) -> bool:
        """Whether the file looks saved since it was last checked (a missing file waits for its return)."""
        now = signature(self.paths[exercise_id])
        if now == self.seen[exercise_id]:
            return False
        if now is not None:
            self.gone_since.pop(exercise_id, None)
            self.said_gone.discard(exercise_id)
            return True
        since = self.gone_since.setdefault(exercise_id, time.monotonic())
        if time.monotonic() - since >= GONE_SECONDS and exercise_id not in self.said_gone:
            self.said_gone.add(exercise_id)
            print(text("watch.file_gone", self.lang, file=display_path(self.paths[exercise_id])), flush=True)
        return False

    def reload(self) -> None:
        """Read config.yaml again; on success re-check everything (cases and expected values may differ)."""
        try:
            course = find_course(self.course.root)
            exercise_ids = exercises_for(course, self.args.exercises, self.args.file)
        except GraderError as error:
            self.config_ok = False
            self.say_error(error)
            print(text("watch.config_broken", self.lang), flush=True)
            return
        self.config_ok = True
        self.course, self.exercise_ids = course, exercise_ids
        if self.args.file is None:  # an exercise's file name comes from the config
            self.paths = {exercise_id: course.exercise_file(exercise_id) for exercise_id in exercise_ids}
        for exercise_id in exercise_ids:
            self.seen[exercise_id] = signature(self.paths[exercise_id])
        self.check(exercise_ids, "watch.config_changed")

    def check(self, exercise_ids: tuple[str, ...], header_key: str, **header: str) -> None:
        """Check ``exercise_ids`` and print the report between a timestamped header and the time it took."""
        from grader.render.terminal import render_submission

        lang = self.lang
        stamp = time.strftime("%H:%M:%S")
        ids = ", ".join(exercise_ids)
        heading = text(header_key, lang, time=stamp, ids=ids, **header)
        print(f"\n{SEPARATOR} {heading} {SEPARATOR}", flush=True)
        started = time.perf_counter()
        try:
            checked = check(self.course, exercise_ids, {i: self.paths[i] for i in exercise_ids}, self.pool)
        except GraderError as error:  # e.g. a reference solution that no longer loads: say it, keep watching
            self.say_error(error)
            return
        took = time.perf_counter() - started
        report = render_submission(checked.result, self.course.config, lang, verbose=self.args.verbose,
                                   color=use_color())
        files = ", ".join(display_path(path) for path in self.paths.values())
        print(report, end="" if report.endswith("\n") else "\n")
        print(text("watch.took", lang, seconds=took, files=files), flush=True)

    def say_error(self, error: GraderError) -> None:
        print(f"grader: {error_sentence(error, self.args.lang, self.course.root)}", file=sys.stderr, flush=True)
