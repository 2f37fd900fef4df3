"""Find the course folder: config.yaml, exercises/, and solutions/ (instructors) or expected/ (students)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.core.config import CourseConfig, load_config
from grader.core.exercises import ExerciseSpec
from grader.errors import ConfigError, UsageError

CONFIG_NAME = "config.yaml"


@dataclass(frozen=True)
class Course:
    """A course folder and its validated config."""

    root: Path
    config: CourseConfig

    @property
    def exercises(self) -> tuple[ExerciseSpec, ...]:
        return self.config.exercises

    def exercise_file(self, exercise_id: str) -> Path:
        return self.root / "exercises" / self.config.exercise(exercise_id).filename


def find_course(explicit: Path | None = None, start: Path | None = None) -> Course:
    """The course at ``explicit``, else $GRADER_COURSE, else the nearest folder up from ``start`` with config.yaml."""
    if explicit is None and os.environ.get("GRADER_COURSE"):
        explicit = Path(os.environ["GRADER_COURSE"])
    if explicit is not None:
        root = explicit.resolve()
        if not (root / CONFIG_NAME).is_file():
            raise ConfigError.worded("error.no_config_at", root=root)
        return Course(root, load_config(root / CONFIG_NAME))
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file() and (folder / "exercises").is_dir():
            return Course(folder, load_config(folder / CONFIG_NAME))
    raise ConfigError.worded("error.not_in_course", here=here)


def select_exercises(config: CourseConfig, names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Exercise ids from the command line ('ex03', '3', the file name); every exercise when none are named."""
    if not names:
        return config.exercise_ids
    chosen = []
    for name in names:
        exercise_id = config.resolve(name)
        if exercise_id is None:
            raise UsageError.worded("error.unknown_exercise", name=repr(name), choices=", ".join(config.exercise_ids))
        if exercise_id not in chosen:
            chosen.append(exercise_id)
    return tuple(chosen)
