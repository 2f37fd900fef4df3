"""Expected values: the reference solutions run on the cases, in this trusted process.

Runs ``solutions/`` through the very calling protocol students go through
(``grader.runner.calling``), so expected values are never typed into checks. A
student copy has no ``solutions/``: there the public cases' expected values
come from ``expected/public.bin``, written once by ``grader dist`` from the
solutions, and hidden cases do not exist.

This module must only ever run in the trusted process, never in a zygote
(a zygote holding answers leaks them to every child it forks).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from grader.runner import calling as drive, wire as protocol
from grader.core.cases import Case
from grader.errors import ConfigError
from grader.runner.outcome import CaseRun, InvalidResult, parse_case
from grader.core.exercises import ExerciseSpec

EXPECTED_FILE = Path("expected") / "public.bin"


def has_solutions(course_root: Path) -> bool:
    return (course_root / "solutions").is_dir()


def _reference_function(course_root: Path, spec: ExerciseSpec):
    """Import the reference solution's function, or say plainly why it cannot be."""
    path = course_root / "solutions" / spec.filename
    module_name = f"_grader_reference_{spec.id}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None or not path.is_file():
        raise ConfigError(f"{path}: the reference solution is missing; restore it or grade from a copy that has it.")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - a broken reference is a course error, said plainly
        raise ConfigError(f"{path}: the reference solution fails to load ({type(error).__name__}: {error}).") from None
    function = getattr(module, spec.function, None)
    if function is None:
        raise ConfigError(f"{path}: the reference solution defines no {spec.function}().")
    return function, str(path)


def _raw_runs(course_root: Path, spec: ExerciseSpec, cases: tuple[Case, ...], swap_seed: int = 0) -> list[dict]:
    function, path = _reference_function(course_root, spec)
    swap = spec.through if swap_seed else ()
    raws = [drive.run_case(spec.protocol, function, case.input, path, swap=swap, swap_seed=swap_seed)
            for case in cases]
    for case, raw in zip(cases, raws):
        if raw["error"] is not None:
            raise ConfigError(
                f"{path}: the reference solution raised {raw['error']['type']} on case {case.name!r}: "
                f"{raw['error']['message']}"
            )
    return raws


def run_solution(course_root: Path, spec: ExerciseSpec, cases: tuple[Case, ...],
                 swap_seed: int = 0) -> tuple[CaseRun, ...]:
    """The reference solution's run on every case, validated like a student's (with the swap run's result when
    ``swap_seed`` is given and the exercise names graph nodes to swap)."""
    return tuple(parse_case(raw) for raw in _raw_runs(course_root, spec, cases, swap_seed))


def expected_runs(course_root: Path, spec: ExerciseSpec, cases: tuple[Case, ...],
                  swap_seed: int = 0) -> tuple[CaseRun, ...]:
    """Expected runs for ``cases``: from solutions/ when present, else from the shipped public file (which never
    holds a swap run: its factor would tell a student copy what to fake)."""
    if has_solutions(course_root):
        return run_solution(course_root, spec, cases, swap_seed)
    shipped = load_shipped(course_root)
    runs = []
    for case in cases:
        entry = shipped.get((spec.id, case.name))
        if entry is None or not case.public:
            raise ConfigError.worded("error.case_not_shipped", file=course_root / EXPECTED_FILE,
                                     exercise=spec.id, case=repr(case.name))
        shipped_input, run = entry
        if shipped_input.dtype != case.input.dtype or not torch.equal(shipped_input, case.input):
            raise ConfigError.worded("error.expected_stale", file=course_root / EXPECTED_FILE,
                                     exercise=spec.id, case=repr(case.name))
        runs.append(run)
    return tuple(runs)


def load_shipped(course_root: Path) -> dict[tuple[str, str], tuple[torch.Tensor, CaseRun]]:
    """expected/public.bin, validated: (exercise, case) -> (the case's input, the reference's run)."""
    path = course_root / EXPECTED_FILE
    try:
        data = protocol.load(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError.worded("error.no_expected", root=course_root, file=EXPECTED_FILE) from None
    except protocol.FrameError:
        raise ConfigError.worded("error.expected_damaged", file=path) from None
    try:
        shipped = {
            (exercise_id, case_name): (entry["input"], parse_case(entry["run"]))
            for exercise_id, per_exercise in data.items()
            for case_name, entry in per_exercise.items()
        }
    except (InvalidResult, AttributeError, KeyError, TypeError):
        raise ConfigError.worded("error.expected_damaged", file=path) from None
    if not all(type(shipped_input) is torch.Tensor for shipped_input, _ in shipped.values()):
        raise ConfigError.worded("error.expected_damaged", file=path)
    return shipped


def ship_public(course_root: Path, public_cases: tuple[tuple[ExerciseSpec, tuple[Case, ...]], ...]) -> bytes:
    """The bytes of expected/public.bin: every public case's input and reference run."""
    data = {}
    for spec, cases in public_cases:
        public = tuple(case for case in cases if case.public)
        raws = _raw_runs(course_root, spec, public)
        data[spec.id] = {case.name: {"input": case.input, "run": raw} for case, raw in zip(public, raws)}
    return protocol.dump(data)
