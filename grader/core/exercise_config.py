"""Read one ``exercises.<id>`` block of config.yaml into an ExerciseSpec, one sentence per problem.

The block says everything about an exercise that is not Python: its files and
function, how it is called, its input recipes, which are public or hidden,
what is checked and which hint plug-ins recognise its typical mistakes (the
keys are documented in docs/authoring.md). Anything missing, misspelled or of
the wrong type stops loading with a ConfigError naming file, key and what is
expected.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Mapping

from grader.core import hints
from grader.core.exercises import (
    CHECK_KINDS,
    DTYPES,
    PROTOCOLS,
    RECIPES,
    TARGET_PATTERN,
    CaseSpec,
    CheckSpec,
    ExerciseSpec,
    Label,
    Tolerance,
)
from grader.errors import ConfigError
from grader.render.plots import PLOT_NAMES

DEFAULT_KEYS = {"points", "timeout", "memory_mb", "rtol", "atol", "hidden_weight"}
BUILTIN_DEFAULTS: Mapping[str, Any] = {
    "points": 1.0,
    "timeout": 10.0,
    "memory_mb": 1024,
    "rtol": None,
    "atol": None,
    "hidden_weight": 0.5,
}
_EXERCISE_KEYS = DEFAULT_KEYS | {"title", "file", "function", "protocol", "input", "cases", "public", "hidden",
                                 "checks", "hints", "plot"}
_CASE_KEYS = {"recipe", "dtype", "show", "n", "scale", "value", "start", "end"}
_CHECK_KEYS = {"id", "kind", "target", "noun", "label", "banned", "through"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXERCISE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Checker:
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

    def text(self, value: Any, key: str, what: str, pattern: re.Pattern | None = None) -> str:
        if not isinstance(value, str) or not value.strip() or (pattern is not None and not pattern.match(value)):
            raise self.fail(key, what, None if value is None else value)
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, "one of " + ", ".join(choices), value)
        return value

    def label(self, value: Any, key: str) -> Label:
        if isinstance(value, str) and value.strip():
            return Label(value, value)
        if isinstance(value, dict) and value and set(value) <= {"zh", "en"} and all(
                isinstance(v, str) and v.strip() for v in value.values()):
            return Label(value.get("zh", value.get("en")), value.get("en", value.get("zh")))
        raise self.fail(key, "a string or a mapping {zh: ..., en: ...}", value)

    def optional_tolerance(self, value: Any, key: str) -> float | None:
        if value is None:
            return None
        return self.number(value, key, minimum=0.0)

    def distinct(self, exercises: tuple[ExerciseSpec, ...]) -> None:
        """Two exercises may not share a file or a function name (one submission file per exercise)."""
        for attribute in ("filename", "function"):
            seen: dict[str, str] = {}
            for spec in exercises:
                other = seen.setdefault(getattr(spec, attribute), spec.id)
                if other != spec.id:
                    raise ConfigError(f"{self.path}: exercises.{other} and exercises.{spec.id} both use the "
                                      f"{'file' if attribute == 'filename' else 'function'} "
                                      f"{getattr(spec, attribute)!r}; give each exercise its own.")


def read_exercise(check: Checker, exercise_id: Any, raw: Any, defaults: Mapping[str, Any]) -> ExerciseSpec:
    """One exercise block, validated and merged with the course's defaults."""
    if not isinstance(exercise_id, str) or not _EXERCISE_ID.match(exercise_id):
        raise check.fail("exercises", "keyed by ids in lower case letters, digits and _ (ex01, ex07, ...)",
                         exercise_id)
    key = f"exercises.{exercise_id}"
    entry = check.mapping(raw, key, _EXERCISE_KEYS)
    for required in ("title", "file", "function", "cases", "public", "checks"):
        if required not in entry:
            raise ConfigError(f"{check.path}: {key}.{required} is missing; every exercise needs "
                              "title, file, function, cases, public and checks (see docs/authoring.md).")
    merged = {**defaults, **entry}

    filename = check.text(entry["file"], f"{key}.file", "a file name ending in .py, without folders")
    if "/" in filename or "\\" in filename or not filename.endswith(".py") or filename.startswith("."):
        raise check.fail(f"{key}.file", "a file name ending in .py, without folders", filename)
    cases = _cases(check, f"{key}.cases", entry["cases"])
    known = tuple(c.name for c in cases)
    public = _case_list(check, f"{key}.public", entry["public"], known)
    hidden = _case_list(check, f"{key}.hidden", entry.get("hidden", []), known)
    if not public:
        raise check.fail(f"{key}.public", "a non-empty list of case names (" + ", ".join(known) + ")", entry["public"])
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

    return ExerciseSpec(
        id=exercise_id,
        title=check.label(entry["title"], f"{key}.title"),
        filename=filename,
        function=check.text(entry["function"], f"{key}.function", "a Python function name", _NAME),
        protocol=check.choice(entry.get("protocol", "call"), f"{key}.protocol", PROTOCOLS),
        input_name=check.text(entry.get("input", "x"), f"{key}.input", "a Python name for the input", _NAME),
        points=check.number(merged["points"], f"{key}.points", minimum=0.0),
        timeout=check.number(merged["timeout"], f"{key}.timeout", minimum=0.0, positive=True),
        memory_mb=memory,
        tolerance=Tolerance(rtol=rtol, atol=atol),
        cases=cases,
        public=public,
        hidden=hidden,
        hidden_weight=hidden_weight,
        checks=_checks(check, f"{key}.checks", entry["checks"]),
        hints=_names(check, f"{key}.hints", entry.get("hints", []), hints.HINT_NAMES, "hint plug-ins"),
        plot=_plot(check, f"{key}.plot", entry.get("plot")),
    )


def _cases(check: Checker, key: str, raw: Any) -> tuple[CaseSpec, ...]:
    if not isinstance(raw, dict) or not raw:
        raise check.fail(key, "a mapping of case names to recipes ({recipe: arange, n: 4, ...})", raw)
    cases = []
    for name, entry in raw.items():
        where = f"{key}.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise check.fail(key, "keyed by case names (letters, digits, _)", name)
        fields = check.mapping(entry, where, _CASE_KEYS)
        recipe = check.choice(fields.get("recipe"), f"{where}.recipe", tuple(RECIPES))
        required, optional = RECIPES[recipe]
        numbers = {k: v for k, v in fields.items() if k not in ("recipe", "dtype", "show")}
        missing, extra = sorted(required - set(numbers)), sorted(set(numbers) - required - optional)
        if missing:
            raise ConfigError(f"{check.path}: {where}.{missing[0]} is missing; recipe {recipe} needs "
                              + ", ".join(sorted(required)) + ".")
        if extra:
            raise ConfigError(f"{check.path}: {where}.{extra[0]} does not apply to recipe {recipe}; it takes "
                              + (", ".join(sorted(required | optional)) or "no numbers") + ".")
        params = []
        for param, value in sorted(numbers.items()):
            if param == "n":
                if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
                    raise check.fail(f"{where}.n", "a whole number from 1 to 1000000", value)
                params.append((param, float(value)))
            else:
                params.append((param, check.number(value, f"{where}.{param}", minimum=-math.inf)))
        if recipe == "scalar" and dict(params)["value"] == 0.0:
            raise check.fail(f"{where}.value", "a number other than 0 (the input must be usable by every "
                             "exercise's function; the book's f never ends at a = 0)", 0)
        cases.append(CaseSpec(
            name=name,
            recipe=recipe,
            dtype=check.choice(fields.get("dtype", "float32"), f"{where}.dtype", DTYPES),
            params=tuple(params),
            show=check.text(fields.get("show"), f"{where}.show", "how the input is shown to students, as code"),
        ))
    return tuple(cases)


def _checks(check: Checker, key: str, raw: Any) -> tuple[CheckSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise check.fail(key, "a non-empty list of checks ({id: y, kind: value, target: returned, ...})", raw)
    specs: list[CheckSpec] = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        fields = check.mapping(entry, where, _CHECK_KEYS)
        check_id = check.text(fields.get("id"), f"{where}.id", "a check id (letters, digits, _)", _NAME)
        if any(s.id == check_id for s in specs):
            raise ConfigError(f"{check.path}: {key} has two checks with id {check_id!r}; ids must differ.")
        kind = check.choice(fields.get("kind"), f"{where}.kind", CHECK_KINDS)
        if kind == "autograd_only":
            if "target" in fields:
                raise ConfigError(f"{check.path}: {where}.target does not apply to kind autograd_only.")
            banned = _names(check, f"{where}.banned", fields.get("banned"), None, "operation names (cos, ...)")
            if not banned:
                raise check.fail(f"{where}.banned", "a non-empty list of operation names (cos, ...)",
                                 fields.get("banned"))
            through = _names(check, f"{where}.through", fields.get("through"), None,
                             "autograd graph node names (SinBackward0, ...)")
            specs.append(CheckSpec(check_id, kind, check.label(fields.get("label"), f"{where}.label"), banned=banned,
                                   through=through))
            continue
        for only in ("banned", "through"):
            if only in fields:
                raise ConfigError(f"{check.path}: {where}.{only} applies to kind autograd_only only.")
        target = check.text(fields.get("target"), f"{where}.target", "returned, returned.N or grad", TARGET_PATTERN)
        noun = check.text(fields.get("noun"), f"{where}.noun", "how the checked value is named in feedback (y, x.grad)")
        specs.append(CheckSpec(check_id, kind, check.label(fields.get("label"), f"{where}.label"), target, noun))
    if all(s.kind == "autograd_only" for s in specs):
        raise check.fail(key, "a list with at least one check of a value (kind value, graph or detached)", raw)
    return tuple(specs)


def _names(check: Checker, key: str, value: Any, known: tuple[str, ...] | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and _NAME.match(v) for v in value):
        raise check.fail(key, f"a list of {what}", value)
    if len(set(value)) != len(value):
        raise check.fail(key, "a list without repeats", value)
    for name in value:
        if known is not None and name not in known:
            raise ConfigError(f"{check.path}: {key} names an unknown plug-in {name!r}; known: {', '.join(known)}.")
    return tuple(value)


def _plot(check: Checker, key: str, value: Any) -> str:
    if value is None:
        return ""
    if value not in PLOT_NAMES:
        raise check.fail(key, "one of " + ", ".join(PLOT_NAMES), value)
    return value


def _case_list(check: Checker, key: str, value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
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
