"""Load and validate config.yaml into a frozen CourseConfig.

Every problem becomes one ConfigError sentence naming the file, the key and
what is expected, e.g. ``config.yaml: exercises.ex03.points must be a number
>= 0, got 'two'``. Unknown keys are errors too: a typo such as ``pionts``
would otherwise silently grade with the default.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from grader.errors import ConfigError
from grader.core.exercises import EXERCISE_IDS, case_names

LANGUAGES = ("zh", "en")
_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@dataclass(frozen=True)
class Tolerance:
    """assert_close tolerances; None means torch.testing's per-dtype default."""

    rtol: float | None = None
    atol: float | None = None


@dataclass(frozen=True)
class ExerciseConfig:
    """One exercise's course settings."""

    id: str
    title_zh: str
    title_en: str
    points: float
    timeout: float
    """Wall-clock seconds one run (all its cases) may take."""
    memory_mb: int
    """Memory a run may allocate on top of what the process already maps."""
    tolerance: Tolerance
    public: tuple[str, ...]
    """Case names graded by ``grader check`` and ``grade``."""
    hidden: tuple[str, ...]
    """Case names graded only by ``grade`` (never shipped to students)."""
    hidden_weight: float
    """Share of each check's points that rides on the hidden cases."""

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass(frozen=True)
class CourseConfig:
    """The whole of config.yaml, validated."""

    path: Path
    language: str | None
    """Default feedback language; None: use the locale."""
    seed: int
    hidden_visibility: str
    exercises: tuple[ExerciseConfig, ...]
    digest: str
    """sha256 of the file's bytes: part of every resumable grade's cache key."""
    canvas_assignment: str = "Autograd exercises"
    """The Canvas assignment column canvas.csv fills (its name in the Canvas gradebook)."""

    def exercise(self, exercise_id: str) -> ExerciseConfig:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)

    @property
    def max_points(self) -> float:
        return sum(e.points for e in self.exercises)


_TOP_KEYS = {"language", "seed", "hidden_visibility", "canvas_assignment", "defaults", "exercises"}
_DEFAULT_KEYS = {"points", "timeout", "memory_mb", "rtol", "atol", "hidden_weight"}
_EXERCISE_KEYS = _DEFAULT_KEYS | {"title", "public", "hidden"}
_BUILTIN_DEFAULTS = {
    "points": 1.0,
    "timeout": 10.0,
    "memory_mb": 1024,
    "rtol": None,
    "atol": None,
    "hidden_weight": 0.5,
}


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


class _Checker:
    """Reads values out of the parsed YAML, raising one clear sentence per problem."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, expected: str, got: Any = ...) -> ConfigError:
        got_text = "" if got is ... else f", got {got!r}"
        return ConfigError(f"{self.path}: {key} must be {expected}{got_text}.")

    def mapping(self, value: Any, key: str, allowed: set[str]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "a mapping of keys to values", value)
        for name in value:
            if name not in allowed:
                hint = ", ".join(sorted(allowed))
                where = f"{key}.{name}" if key != "(top level)" else str(name)
                raise ConfigError(f"{self.path}: unknown key {where!r}; allowed here: {hint}.")
        return value

    def number(self, value: Any, key: str, *, minimum: float, positive: bool = False) -> float:
        # YAML's .nan and .inf are floats too: NaN passes every comparison below and inf overflows the
        # zygote's timer, so both are refused here (found by tests/test_config.py).
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(key, f"a number {'>' if positive else '>='} {minimum:g}", value)
        if value < minimum or (positive and value <= minimum):
            raise self.fail(key, f"a number {'>' if positive else '>='} {minimum:g}", value)
        return float(value)

    def optional_tolerance(self, value: Any, key: str) -> float | None:
        if value is None:
            return None
        return self.number(value, key, minimum=0.0)


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
    check = _Checker(path)
    if not isinstance(raw, dict):
        raise check.fail("the file", "a mapping with 'exercises:' at the top level", raw)
    top = check.mapping(raw, "(top level)", _TOP_KEYS)

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

    defaults = dict(_BUILTIN_DEFAULTS)
    defaults.update(check.mapping(top.get("defaults"), "defaults", _DEFAULT_KEYS))

    exercises_raw = top.get("exercises")
    if not isinstance(exercises_raw, dict):
        raise check.fail("exercises", "a mapping with one entry per exercise (ex01 ... ex06)", exercises_raw)
    exercises_raw = check.mapping(exercises_raw, "exercises", set(EXERCISE_IDS))
    missing = [e for e in EXERCISE_IDS if e not in exercises_raw]
    if missing:
        raise ConfigError(f"{path}: exercises.{missing[0]} is missing; every exercise ex01 ... ex06 needs an entry.")

    exercises = tuple(
        _exercise(check, exercise_id, exercises_raw[exercise_id], defaults) for exercise_id in EXERCISE_IDS
    )
    return CourseConfig(
        path=path,
        language=language,
        seed=seed,
        hidden_visibility=hidden_visibility,
        exercises=exercises,
        digest=hashlib.sha256(raw_bytes).hexdigest(),
        canvas_assignment=canvas_assignment,
    )


def _exercise(check: _Checker, exercise_id: str, raw: Any, defaults: Mapping[str, Any]) -> ExerciseConfig:
    key = f"exercises.{exercise_id}"
    entry = check.mapping(raw, key, _EXERCISE_KEYS)
    merged = {**defaults, **entry}

    title = entry.get("title")
    if isinstance(title, str):
        title_zh = title_en = title
    elif isinstance(title, dict) and set(title) <= {"zh", "en"} and title and all(
        isinstance(v, str) for v in title.values()
    ):
        title_zh = title.get("zh", title.get("en"))
        title_en = title.get("en", title.get("zh"))
    else:
        raise check.fail(f"{key}.title", "a string or a mapping {zh: ..., en: ...}", title)

    known = case_names(exercise_id)
    public = _case_list(check, f"{key}.public", entry.get("public"), known)
    hidden = _case_list(check, f"{key}.hidden", entry.get("hidden", []), known)
    if not public:
        raise check.fail(f"{key}.public", "a non-empty list of case names (" + ", ".join(known) + ")", entry.get("public"))
    overlap = set(public) & set(hidden)
    if overlap:
        raise ConfigError(f"{check.path}: case {sorted(overlap)[0]!r} of {key} is listed as both public and hidden.")

    rtol = check.optional_tolerance(merged["rtol"], f"{key}.rtol")
    atol = check.optional_tolerance(merged["atol"], f"{key}.atol")
    if (rtol is None) != (atol is None):
        raise ConfigError(
            f"{check.path}: {key} sets only one of rtol and atol; set both (as torch.testing.assert_close requires) or neither."
        )
    memory = merged["memory_mb"]
    if isinstance(memory, bool) or not isinstance(memory, int) or memory < 64:
        raise check.fail(f"{key}.memory_mb", "a whole number of MiB >= 64", memory)
    hidden_weight = check.number(merged["hidden_weight"], f"{key}.hidden_weight", minimum=0.0)
    if hidden_weight > 1:
        raise check.fail(f"{key}.hidden_weight", "a number between 0 and 1", merged["hidden_weight"])

    return ExerciseConfig(
        id=exercise_id,
        title_zh=title_zh,
        title_en=title_en,
        points=check.number(merged["points"], f"{key}.points", minimum=0.0),
        timeout=check.number(merged["timeout"], f"{key}.timeout", minimum=0.0, positive=True),
        memory_mb=memory,
        tolerance=Tolerance(rtol=rtol, atol=atol),
        public=public,
        hidden=hidden,
        hidden_weight=hidden_weight,
    )


def _case_list(check: _Checker, key: str, value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise check.fail(key, "a list of case names", value)
    for name in value:
        if name not in known:
            raise ConfigError(f"{check.path}: {key} names an unknown case {name!r}; known cases: {', '.join(known)}.")
    if len(set(value)) != len(value):
        raise check.fail(key, "a list without repeats", value)
    return tuple(value)
