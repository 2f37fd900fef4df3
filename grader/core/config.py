"""Load and validate config.yaml into a frozen CourseConfig.

Every problem becomes one ConfigError sentence naming the file, the key and
what is expected, e.g. ``config.yaml: exercises.ex03.points must be a number
>= 0, got 'two'``. Unknown keys are errors too: a typo such as ``pionts``
would otherwise silently grade with the default. The exercise blocks
themselves are read by grader.core.exercise_config.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.core.exercise_config import DEFAULT_KEYS, BUILTIN_DEFAULTS, Checker, read_exercise
from grader.core.exercises import ExerciseSpec, resolve_exercise
from grader.errors import ConfigError

LANGUAGES = ("zh", "en")
_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_TOP_KEYS = {"language", "seed", "hidden_visibility", "canvas_assignment", "defaults", "exercises"}


@dataclass(frozen=True)
class CourseConfig:
    """The whole of config.yaml, validated."""

    path: Path
    language: str | None
    """Default feedback language; None: use the locale."""
    seed: int
    hidden_visibility: str
    exercises: tuple[ExerciseSpec, ...]
    """In the order config.yaml lists them: the order of every report and of grades.csv's columns."""
    digest: str
    """sha256 of the file's bytes: part of every resumable grade's cache key."""
    canvas_assignment: str = "Autograd exercises"
    """The Canvas assignment column canvas.csv fills (its name in the Canvas gradebook)."""

    def exercise(self, exercise_id: str) -> ExerciseSpec:
        for spec in self.exercises:
            if spec.id == exercise_id:
                return spec
        raise KeyError(exercise_id)

    @property
    def exercise_ids(self) -> tuple[str, ...]:
        return tuple(spec.id for spec in self.exercises)

    def resolve(self, text: str) -> str | None:
        """The exercise named by ``text`` ('ex03', '3', the file name), or None."""
        return resolve_exercise(self.exercises, text)

    @property
    def max_points(self) -> float:
        return sum(e.points for e in self.exercises)


class _RepeatedKey(yaml.constructor.ConstructorError):
    """A key written twice in one mapping."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping.

    Plain YAML keeps the last of two ``points:`` lines (or two ``ex03:`` entries) without a word,
    which would silently grade with the wrong value, as the unknown-key check exists to prevent
    (found by tests/test_config.py). Merge keys (``<<: *defaults``) may still be overridden.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key: SafeLoader reports it itself
            if repeated:
                raise _RepeatedKey(
                    "while reading a mapping", node.start_mark, f"key {key!r} appears twice", key_node.start_mark)
        return super().construct_mapping(node, deep)


def load_config(path: Path) -> CourseConfig:
    """Parse and validate the course's config.yaml."""
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no config.yaml here; run grader from the course folder "
            "(the one with exercises/ and config.yaml) or pass --course DIR."
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror}).") from None
    try:
        raw = yaml.load(raw_bytes, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        hint = "keep only one of them" if isinstance(error, _RepeatedKey) else "fix the indentation or quoting there"
        raise ConfigError(f"{path}: is not valid YAML{where} ({problem}); {hint}.") from None
    check = Checker(path)
    if not isinstance(raw, dict):
        raise check.fail("the file", "a mapping with 'exercises:' at the top level", raw)
    # Keys starting with x- are free-form: a place for YAML anchors (&vector_cases) that exercises reuse.
    top = check.mapping({k: v for k, v in raw.items() if not str(k).startswith("x-")}, "(top level)", _TOP_KEYS)

    language = top.get("language")
    if language is not None and language not in LANGUAGES:
        raise check.fail("language", "zh or en", language)
    seed = top.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise check.fail("seed", "a whole number", seed)
    hidden_visibility = top.get("hidden_visibility", "hidden")
    if hidden_visibility not in _VISIBILITIES:
        raise check.fail("hidden_visibility", "one of " + ", ".join(_VISIBILITIES), hidden_visibility)
    canvas_assignment = top.get("canvas_assignment", "Autograd exercises")
    if not isinstance(canvas_assignment, str) or not canvas_assignment.strip():
        raise check.fail("canvas_assignment", "the assignment's name as it appears in Canvas", canvas_assignment)

    defaults = dict(BUILTIN_DEFAULTS)
    defaults.update(check.mapping(top.get("defaults"), "defaults", DEFAULT_KEYS))

    blocks = top.get("exercises")
    if not isinstance(blocks, dict) or not blocks:
        raise check.fail("exercises", "a mapping with one entry per exercise (ex01: ..., ex02: ...)", blocks)
    exercises = tuple(read_exercise(check, exercise_id, block, defaults) for exercise_id, block in blocks.items())
    check.distinct(exercises)
    return CourseConfig(
        path=path,
        language=language,
        seed=seed,
        hidden_visibility=hidden_visibility,
        exercises=exercises,
        digest=hashlib.sha256(raw_bytes).hexdigest(),
        canvas_assignment=canvas_assignment,
    )
