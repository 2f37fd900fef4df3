"""Turn case recipes into input tensors, deterministically.

Random cases are seeded per (course seed, exercise, case name), so a grading
run is reproducible and adding a case never changes another case's inputs.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import torch

from grader.core.exercises import CaseDef

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class Case:
    """A concrete case: its recipe, whether it is public, and the input tensor."""

    exercise_id: str
    definition: CaseDef
    public: bool
    input: torch.Tensor

    @property
    def name(self) -> str:
        return self.definition.name


def case_seed(course_seed: int, exercise_id: str, case_name: str) -> int:
    """A stable 32-bit seed for one case (crc32: the same on every platform and run)."""
    return zlib.crc32(f"{course_seed}/{exercise_id}/{case_name}".encode())


def make_input(definition: CaseDef, exercise_id: str, course_seed: int) -> torch.Tensor:
    """The fresh input tensor of one case; it never requires grad."""
    params = dict(definition.params)
    dtype = _DTYPES[str(params.get("dtype", "float32"))]
    generator = torch.Generator().manual_seed(case_seed(course_seed, exercise_id, definition.name))
    kind = definition.kind
    if kind == "arange":
        return torch.arange(float(params["n"]), dtype=dtype)
    if kind == "randn":
        return torch.randn(int(params["n"]), generator=generator, dtype=dtype) * float(params["scale"])
    if kind == "scalar":
        return torch.tensor(float(params["value"]), dtype=dtype)
    if kind == "random_scalar":
        # Keep |a| away from 0: the book's f never terminates at a = 0.
        value = torch.randn((), generator=generator, dtype=dtype)
        return value + torch.sign(value) * 0.1 if value.abs() < 0.1 else value
    if kind == "sin_grid":
        return torch.arange(int(params["n"]), dtype=dtype) * (2 * math.pi / int(params["n"]))
    if kind == "linspace":
        return torch.linspace(float(params["start"]), float(params["end"]), int(params["n"]), dtype=dtype)
    raise ValueError(f"unknown case kind {kind!r}")


def build_cases(exercise_id: str, public: tuple[str, ...], hidden: tuple[str, ...],
                definitions: tuple[CaseDef, ...], course_seed: int) -> tuple[Case, ...]:
    """The cases to run, public ones first, in config order."""
    by_name = {d.name: d for d in definitions}
    return tuple(
        Case(exercise_id, by_name[name], name in public, make_input(by_name[name], exercise_id, course_seed))
        for name in (*public, *hidden)
    )
