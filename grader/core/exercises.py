"""What an exercise is, as frozen data: files, function, calling protocol, cases and checks.

Exercises are course data: ``config.yaml`` declares them (see docs/authoring.md)
and ``grader.core.exercise_config`` turns each block into an :class:`ExerciseSpec`.
This module holds only the types and the vocabulary a block may use (calling
protocols, case recipes, check kinds, targets). It imports no torch, so the
command line can validate a course and start its workers before paying for
torch's import. Nothing here computes an expected value: those come from
running ``solutions/`` on the same inputs (``grader.core.reference``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Mapping, get_args

CallingProtocol = Literal["call", "call_backward"]
"""call: the grader calls ``fn(x)`` on a fresh tensor and reads the result and ``x.grad``.
call_backward: the grader makes ``a`` require grad, calls ``d = fn(a)`` and ``d.backward()`` itself."""
PROTOCOLS: tuple[str, ...] = get_args(CallingProtocol)
PROTOCOL_CALL: CallingProtocol = "call"
PROTOCOL_CALL_BACKWARD: CallingProtocol = "call_backward"

CheckKind = Literal["value", "graph", "detached", "autograd_only"]
"""value: close to the reference's; graph: has a grad_fn; detached: no grad_fn and no requires_grad;
autograd_only: the result came out of autograd (through the configured graph nodes) and no banned function's
value was computed outside autograd's backward (judged from what the code did)."""
CHECK_KINDS: tuple[str, ...] = get_args(CheckKind)

DType = Literal["float32", "float64"]
DTYPES: tuple[str, ...] = get_args(DType)

RECIPES: Mapping[str, tuple[frozenset[str], frozenset[str]]] = MappingProxyType({
    # recipe: (required parameters, optional parameters); every recipe also takes dtype and show.
    "arange": (frozenset({"n"}), frozenset()),
    "randn": (frozenset({"n"}), frozenset({"scale"})),
    "linspace": (frozenset({"start", "end", "n"}), frozenset()),
    "sin_grid": (frozenset({"n"}), frozenset()),
    "scalar": (frozenset({"value"}), frozenset()),
    "random_scalar": (frozenset(), frozenset({"scale"})),
})
"""Input recipes (built into tensors by grader.core.cases)."""

TARGET_PATTERN = re.compile(r"^(returned|returned\.[0-9]|grad)$")
"""returned | returned.N (the N-th item of a returned tuple) | grad (the grader's own input's .grad)."""


@dataclass(frozen=True)
class Label:
    """Words shown to people, in both languages."""

    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Tolerance:
    """assert_close tolerances; None means torch.testing's per-dtype default."""

    rtol: float | None = None
    atol: float | None = None


@dataclass(frozen=True)
class CaseSpec:
    """One input recipe; grader.core.cases turns it into a tensor."""

    name: str
    recipe: str
    dtype: DType
    params: tuple[tuple[str, float], ...]
    """The recipe's numbers: n, scale, value, start, end."""
    show: str
    """How the input is shown to a student, as code so it reads the same in every language
    ('torch.arange(4.0)', 'torch.randn(7)'); a hidden case's values stay hidden, its recipe does not."""

    def param(self, name: str, default: float | None = None) -> float:
        value = dict(self.params).get(name, default)
        if value is None:
            raise KeyError(f"case {self.name!r} has no {name}")
        return value

    @property
    def random(self) -> bool:
        return self.recipe.startswith("rand")


@dataclass(frozen=True)
class CheckSpec:
    """One gradable claim about a run; named in results '<exercise> · <English label>'."""

    id: str
    kind: CheckKind
    label: Label
    target: str = ""
    """Which harvested value the check reads (see TARGET_PATTERN); '' for autograd_only."""
    noun: str = ""
    """How the target is named in feedback: 'y', 'x.grad', 'u', ..."""
    banned: tuple[str, ...] = ()
    """autograd_only: the functions whose values the submission must not compute outside autograd's
    backward ('cos')."""
    through: tuple[str, ...] = ()
    """autograd_only: autograd graph nodes the backward pass must traverse ('SinBackward0': the result is a
    derivative of sin of the given input)."""


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise: where the student's code lives, how it is run, checked and scored."""

    id: str
    title: Label
    filename: str
    """The same name in exercises/ (the stub) and solutions/ (the reference)."""
    function: str
    protocol: CallingProtocol
    input_name: str
    points: float
    timeout: float
    """Wall-clock seconds one run (all its cases) may take."""
    memory_mb: int
    """Memory a run may allocate on top of what the process already maps."""
    tolerance: Tolerance
    cases: tuple[CaseSpec, ...]
    public: tuple[str, ...]
    """Case names graded by ``grader check`` and ``grade``."""
    hidden: tuple[str, ...]
    """Case names graded only by ``grade`` (never shipped to students)."""
    hidden_weight: float
    """Share of each check's points that rides on the hidden cases."""
    checks: tuple[CheckSpec, ...]
    hints: tuple[str, ...] = ()
    """Named hint plug-ins (grader.core.hints) that recognise this exercise's typical mistakes."""
    plot: str = ""
    """A named plot (grader.render.plots) that ``grader check --plot`` draws; '' for none."""

    def case(self, name: str) -> CaseSpec:
        return next(c for c in self.cases if c.name == name)

    @property
    def case_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cases)

    @property
    def through(self) -> tuple[str, ...]:
        """Every graph node an autograd_only check of this exercise requires the result to come through."""
        return tuple(dict.fromkeys(node for c in self.checks if c.kind == "autograd_only" for node in c.through))

    @property
    def banned(self) -> tuple[str, ...]:
        """Every operation an autograd_only check of this exercise bans."""
        return tuple(dict.fromkeys(op for c in self.checks if c.kind == "autograd_only" for op in c.banned))


def resolve_exercise(exercises: tuple[ExerciseSpec, ...], text: str) -> str | None:
    """Accept 'ex03', '3', '03', 'ex3', the file's stem or its name; None when nothing matches."""
    lowered = text.strip().lower()
    for spec in exercises:
        if lowered in (spec.id.lower(), spec.filename.lower(), spec.filename.lower().removesuffix(".py")):
            return spec.id
    digits = lowered.removeprefix("ex")
    if digits.isdigit():
        for spec in exercises:
            own = spec.id.lower().removeprefix("ex")
            if own.isdigit() and int(own) == int(digits):
                return spec.id
    return None
