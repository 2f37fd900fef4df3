"""Turn case recipes into input tensors, deterministically.

Random cases are seeded per (course seed, exercise, case name), so a grading
run is reproducible and adding a case never changes another case's inputs.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import torch

from grader.core.exercises import CaseSpec, ExerciseSpec

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class Case:
    """A concrete case: its recipe, whether it is public, and the input tensor."""

    exercise_id: str
    spec: CaseSpec
    public: bool
    input: torch.Tensor

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def show(self) -> str:
        return self.spec.show


def case_seed(course_seed: int, exercise_id: str, case_name: str) -> int:
    """A stable 32-bit seed for one case (crc32: the same on every platform and run)."""
    return zlib.crc32(f"{course_seed}/{exercise_id}/{case_name}".encode())


def make_input(spec: CaseSpec, exercise_id: str, course_seed: int) -> torch.Tensor:
    """The fresh input tensor of one case; it never requires grad."""
    dtype = _DTYPES[spec.dtype]
    generator = torch.Generator().manual_seed(case_seed(course_seed, exercise_id, spec.name))
    recipe = spec.recipe
    if recipe == "arange":
        return torch.arange(float(int(spec.param("n"))), dtype=dtype)
    if recipe == "randn":
        return torch.randn(int(spec.param("n")), generator=generator, dtype=dtype) * spec.param("scale", 1.0)
    if recipe == "scalar":
        return torch.tensor(spec.param("value"), dtype=dtype)
    if recipe == "random_scalar":
        # Keep |a| away from 0: the book's f never terminates at a = 0.
        value = torch.randn((), generator=generator, dtype=dtype) * spec.param("scale", 1.0)
        return value + torch.sign(value) * 0.1 if value.abs() < 0.1 else value
    if recipe == "sin_grid":
        n = int(spec.param("n"))
        return torch.arange(n, dtype=dtype) * (2 * math.pi / n)
    if recipe == "linspace":
        return torch.linspace(spec.param("start"), spec.param("end"), int(spec.param("n")), dtype=dtype)
    raise ValueError(f"unknown recipe {recipe!r}")  # config validation admits only grader.core.exercises.RECIPES


def build_cases(spec: ExerciseSpec, course_seed: int, include_hidden: bool) -> tuple[Case, ...]:
    """The cases to run, public ones first, in config order."""
    names = (*spec.public, *(spec.hidden if include_hidden else ()))
    return tuple(
        Case(spec.id, spec.case(name), name in spec.public, make_input(spec.case(name), spec.id, course_seed))
        for name in names
    )
