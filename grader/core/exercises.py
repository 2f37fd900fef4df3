"""The six exercises declared as data: files, functions, calling protocol, cases and checks.

Nothing here computes an expected value: expected values come from running
``solutions/`` on the same inputs (see ``grader.core.reference``). This module
imports no torch, so the command line can validate a config and start its
workers before paying for torch's import.
"""

from __future__ import annotations

from dataclasses import dataclass

PROTOCOL_CALL = "call"
"""The grader calls ``fn(x)`` on a fresh tensor and inspects the result and ``x.grad``."""
PROTOCOL_CALL_BACKWARD = "call_backward"
"""The grader makes ``a`` require grad, calls ``d = fn(a)`` and ``d.backward()`` itself (ex05)."""


@dataclass(frozen=True)
class CaseDef:
    """One input recipe. ``kind`` and ``params`` are turned into tensors by grader.core.cases."""

    name: str
    kind: str
    """arange | randn | scalar | random_scalar | sin_grid | linspace"""
    params: tuple[tuple[str, object], ...]
    describe: str
    """How the input is shown to a student, as code so it reads the same in every language
    ('torch.arange(4.0)', 'torch.randn(7)'); a hidden case's values stay hidden, its recipe does not."""


@dataclass(frozen=True)
class Check:
    """One gradable claim about a run, named in results as '<exercise> · <label>'."""

    id: str
    label: str
    kind: str
    """value: ≈ the reference's; graph: has a grad_fn; detached: no grad_fn, no requires_grad;
    no_cosine: the source calls no cosine (an AST check)."""
    target: str = ""
    """returned | returned.N | grad — which harvested value the check reads."""
    noun: str = ""
    """How the target is named in feedback: 'y', 'x.grad', 'u', ..."""


@dataclass(frozen=True)
class ExerciseDef:
    """One exercise: where the student's code lives and how it is run and checked."""

    id: str
    filename: str
    function: str
    protocol: str
    input_name: str
    cases: tuple[CaseDef, ...]
    checks: tuple[Check, ...]


def _vector_cases() -> tuple[CaseDef, ...]:
    return (
        CaseDef("book", "arange", (("n", 4), ("dtype", "float32")), "torch.arange(4.0)"),
        CaseDef("vec7", "randn", (("n", 7), ("dtype", "float32"), ("scale", 1.0)), "torch.randn(7)"),
        CaseDef("vec16_f64", "randn", (("n", 16), ("dtype", "float64"), ("scale", 3.0)), "3 * torch.randn(16, dtype=torch.float64)"),
        CaseDef("vec1_f64", "randn", (("n", 1), ("dtype", "float64"), ("scale", 1.0)), "torch.randn(1, dtype=torch.float64)"),
    )


def _value(check_id: str, label: str, target: str, noun: str) -> Check:
    return Check(check_id, label, "value", target, noun)


def _graph(check_id: str, label: str, target: str, noun: str) -> Check:
    return Check(check_id, label, "graph", target, noun)


EXERCISES: tuple[ExerciseDef, ...] = (
    ExerciseDef(
        id="ex01",
        filename="ex01_gradient_4x.py",
        function="gradient_4x",
        protocol=PROTOCOL_CALL,
        input_name="x",
        cases=_vector_cases(),
        checks=(
            _value("y", "y = 2xᵀx", "returned", "y"),
            _graph("y_graph", "y has a grad_fn", "returned", "y"),
            _value("x_grad", "x.grad ≈ 4x", "grad", "x.grad"),
        ),
    ),
    ExerciseDef(
        id="ex02",
        filename="ex02_zero_grad.py",
        function="zero_then_sum",
        protocol=PROTOCOL_CALL,
        input_name="x",
        cases=_vector_cases(),
        checks=(
            _value("y", "y = Σx", "returned", "y"),
            _graph("y_graph", "y has a grad_fn", "returned", "y"),
            _value("x_grad", "x.grad ≈ 1 (cleared before the second backward)", "grad", "x.grad"),
        ),
    ),
    ExerciseDef(
        id="ex03",
        filename="ex03_sum_backward.py",
        function="sum_backward",
        protocol=PROTOCOL_CALL,
        input_name="x",
        cases=_vector_cases(),
        checks=(
            _value("y", "y = x⊙x", "returned", "y"),
            _graph("y_graph", "y has a grad_fn", "returned", "y"),
            _value("x_grad", "x.grad ≈ 2x", "grad", "x.grad"),
        ),
    ),
    ExerciseDef(
        id="ex04",
        filename="ex04_detach.py",
        function="detach_product",
        protocol=PROTOCOL_CALL,
        input_name="x",
        cases=_vector_cases(),
        checks=(
            _value("u", "u = x⊙x", "returned.0", "u"),
            Check("u_detached", "u is detached", "detached", "returned.0", "u"),
            _value("z", "z = u⊙x", "returned.1", "z"),
            _graph("z_graph", "z has a grad_fn", "returned.1", "z"),
            _value("x_grad", "x.grad ≈ u", "grad", "x.grad"),
        ),
    ),
    ExerciseDef(
        id="ex05",
        filename="ex05_control_flow.py",
        function="f",
        protocol=PROTOCOL_CALL_BACKWARD,
        input_name="a",
        cases=(
            CaseDef("positive", "scalar", (("value", 1.5), ("dtype", "float32")), "a = torch.tensor(1.5)"),
            CaseDef("negative", "scalar", (("value", -0.7), ("dtype", "float32")), "a = torch.tensor(-0.7)"),
            CaseDef("tiny", "scalar", (("value", 1e-4), ("dtype", "float32")), "a = torch.tensor(1e-4)"),
            CaseDef("large", "scalar", (("value", 2500.0), ("dtype", "float32")), "a = torch.tensor(2500.0)"),
            CaseDef("negative_large_f64", "scalar", (("value", -3000.0), ("dtype", "float64")), "a = torch.tensor(-3000.0, dtype=torch.float64)"),
            CaseDef("random_f64", "random_scalar", (("dtype", "float64"),), "a = torch.randn((), dtype=torch.float64)"),
        ),
        checks=(
            _value("d", "d = f(a)", "returned", "d"),
            _graph("d_graph", "d has a grad_fn", "returned", "d"),
            _value("a_grad", "a.grad ≈ d / a", "grad", "a.grad"),
        ),
    ),
    ExerciseDef(
        id="ex06",
        filename="ex06_sin_cos.py",
        function="sin_derivative",
        protocol=PROTOCOL_CALL,
        input_name="x",
        cases=(
            CaseDef("book", "sin_grid", (("n", 100), ("dtype", "float32")), "2π/100 · torch.arange(100)"),
            CaseDef("grid_f64", "linspace", (("start", -10.0), ("end", 10.0), ("n", 57), ("dtype", "float64")),
                    "torch.linspace(-10, 10, 57, dtype=torch.float64)"),
            CaseDef("random", "randn", (("n", 33), ("dtype", "float32"), ("scale", 5.0)), "5 * torch.randn(33)"),
        ),
        checks=(
            _value("dydx", "dy/dx ≈ cos(x)", "returned", "dy/dx"),
            Check("no_cosine", "no cosine in the source", "no_cosine"),
        ),
    ),
)

EXERCISE_IDS: tuple[str, ...] = tuple(e.id for e in EXERCISES)


def exercise(exercise_id: str) -> ExerciseDef:
    """The exercise with this id (KeyError if there is none)."""
    for definition in EXERCISES:
        if definition.id == exercise_id:
            return definition
    raise KeyError(exercise_id)


def case_names(exercise_id: str) -> tuple[str, ...]:
    return tuple(c.name for c in exercise(exercise_id).cases)


def resolve_exercise(text: str) -> str | None:
    """Accept 'ex03', '3', '03', 'ex3' or the file name; None when nothing matches."""
    lowered = text.strip().lower()
    for definition in EXERCISES:
        stem = definition.filename[:-3]
        if lowered in (definition.id, stem, definition.filename):
            return definition.id
    digits = lowered.removeprefix("ex")
    if digits.isdigit() and f"ex{int(digits):02d}" in EXERCISE_IDS:
        return f"ex{int(digits):02d}"
    return None
