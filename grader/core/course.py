"""Find the course folder and prepare what grading an exercise needs: cases and expected values."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.core.config import CourseConfig, ExerciseConfig, load_config
from grader.errors import ConfigError, UsageError
from grader.core.exercises import EXERCISE_IDS, ExerciseDef, exercise, resolve_exercise

CONFIG_NAME = "config.yaml"


@dataclass(frozen=True)
class Course:
    """A course folder: config.yaml, exercises/, and solutions/ (instructors) or expected/ (students)."""

    root: Path
    config: CourseConfig

    def exercise_file(self, exercise_id: str) -> Path:
        return self.root / "exercises" / exercise(exercise_id).filename


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


def select_exercises(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Exercise ids from the command line ('ex03', '3', the file name); all six when none are named."""
    if not names:
        return EXERCISE_IDS
    chosen = []
    for name in names:
        exercise_id = resolve_exercise(name)
        if exercise_id is None:
            raise UsageError.worded("error.unknown_exercise", name=repr(name), choices=", ".join(EXERCISE_IDS))
        if exercise_id not in chosen:
            chosen.append(exercise_id)
    return tuple(chosen)


def definition_and_config(course: Course, exercise_id: str) -> tuple[ExerciseDef, ExerciseConfig]:
    return exercise(exercise_id), course.config.exercise(exercise_id)
