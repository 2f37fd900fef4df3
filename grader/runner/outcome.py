"""The typed, validated record of one run: what the code returned, raised and left in ``x.grad``.

``parse_*`` functions read the plain data a child sent back and accept
nothing else: every field is type-checked, and a tensor must be exactly
``torch.Tensor`` (weights-only loading also admits ``nn.Parameter``).
Anything off makes the whole result invalid rather than half-trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union, get_args

import torch

from grader.errors import GraderError
from grader.runner.facts import RunFacts, parse_facts
from grader.runner.harvest import MAX_ELEMENTS
from grader.runner.wire import Stage

_MAX_DIMS = 64
"""torch's own limit on a tensor's dimensions."""


class InvalidResult(GraderError, ValueError):
    """The child's data does not have the shape of a harvest."""


@dataclass(frozen=True)
class TensorValue:
    """A returned tensor, stripped to data plus the autograd facts that matter."""

    data: torch.Tensor | None
    """The values; None when the tensor was too large to bring back."""
    shape: tuple[int, ...]
    dtype: str
    requires_grad: bool
    grad_fn: str
    """Name of the grad_fn's class ('MulBackward0'), '' when there is none."""
    type_name: str
    exact_type: bool


@dataclass(frozen=True)
class NumberValue:
    """A plain Python number (bool, int or float)."""

    value: float
    type_name: str


@dataclass(frozen=True)
class NoneValue:
    """None, or nothing at all."""


@dataclass(frozen=True)
class SequenceValue:
    """A returned tuple or list."""

    items: tuple["Value", ...]
    length: int
    type_name: str


@dataclass(frozen=True)
class OtherValue:
    """Any other object, known only by its type's name."""

    type_name: str


Value = Union[TensorValue, NumberValue, NoneValue, SequenceValue, OtherValue]


@dataclass(frozen=True)
class Frame:
    """One line of the student's own file in a traceback."""

    filename: str
    line: int
    function: str
    text: str


@dataclass(frozen=True)
class ErrorInfo:
    """An exception raised by the code under test."""

    type_name: str
    message: str
    frames: tuple[Frame, ...]
    module: str = ""
    """For ImportError: the module that could not be imported."""


@dataclass(frozen=True)
class Swapped:
    """What the swap run's call returned, and the input's .grad after it; None for each when that call raised."""

    returned: "Value | None"
    grad: "Value | None"


@dataclass(frozen=True)
class CaseRun:
    """What happened on one case."""

    returned: Value
    grad: Value
    """The grader's own input tensor's ``.grad`` after the call."""
    error: ErrorInfo | None
    stage: Stage
    """'backward' once the grader ran its own ``d.backward()`` (call_backward, ex05), else 'call'."""
    facts: RunFacts | None = None
    """What the code did (grader.runner.recorder); None when the child's recorder failed or sent none readable."""
    swapped: "Swapped | None" = None
    """The second call under the swap run (grader.runner.swap), when the exercise has one and the first call
    raised nothing."""


def parse_value(raw: Any, depth: int = 0) -> Value:
    """A value described by ``grader.runner.harvest.value``; InvalidResult unless it is exactly one."""
    kind = _field(raw, "kind", str)
    if kind == "none":
        return NoneValue()
    if kind == "number":
        try:
            number = float(_field(raw, "value", float))
        except OverflowError:  # an int no float holds: harvest never writes one
            raise InvalidResult("number out of range") from None
        return NumberValue(number, _field(raw, "type", str))
    if kind == "other":
        return OtherValue(_field(raw, "type", str))
    if kind == "sequence" and depth == 0:
        items = tuple(parse_value(item, depth + 1) for item in _field(raw, "items", list))
        length = _field(raw, "length", int)
        if length < len(items):
            raise InvalidResult("sequence shorter than its items")
        return SequenceValue(items, length, _field(raw, "type", str))
    if kind == "tensor":
        data = raw.get("data")
        if data is not None and type(data) is not torch.Tensor:
            raise InvalidResult(f"tensor data of type {type(data).__name__}")
        shape = tuple(_field(raw, "shape", list))
        if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > _MAX_DIMS:
            raise InvalidResult("tensor shape")
        if math.prod(shape) >= 1 << 63:  # no tensor can have more elements than int64 counts
            raise InvalidResult("tensor shape out of range")
        if data is None and math.prod(shape) <= MAX_ELEMENTS:
            raise InvalidResult("tensor data missing")  # the harness sends the data of every tensor this small
        dtype = _field(raw, "dtype", str)
        if data is not None and (tuple(data.shape) != shape or str(data.dtype).removeprefix("torch.") != dtype):
            raise InvalidResult("tensor metadata does not match its data")
        return TensorValue(
            data=data,
            shape=shape,
            dtype=dtype,
            requires_grad=_field(raw, "requires_grad", bool),
            grad_fn=_field(raw, "grad_fn", str),
            type_name=_field(raw, "type", str),
            exact_type=_field(raw, "exact_type", bool),
        )
    raise InvalidResult(f"unknown value kind {kind!r}")


def parse_error(raw: Any) -> ErrorInfo:
    """An exception described by ``grader.runner.harvest.exception``."""
    frames = []
    for entry in _field(raw, "frames", list):
        if not (isinstance(entry, list) and len(entry) == 4):
            raise InvalidResult("traceback frame")
        filename, line, function, text = entry
        if not (isinstance(filename, str) and type(line) is int and isinstance(function, str) and isinstance(text, str)):
            raise InvalidResult("traceback frame")
        frames.append(Frame(filename, line, function, text))
    module = raw.get("module", "")
    return ErrorInfo(
        type_name=_field(raw, "type", str),
        message=_field(raw, "message", str),
        frames=tuple(frames),
        module=module if isinstance(module, str) else "",
    )


def parse_case(raw: Any) -> CaseRun:
    """One case record (``grader.runner.calling.run_case``)."""
    error = raw.get("error") if isinstance(raw, dict) else None
    stage = _field(raw, "stage", str)
    if stage not in get_args(Stage):
        raise InvalidResult("stage")
    return CaseRun(
        returned=parse_value(_field(raw, "returned", dict)),
        grad=parse_value(_field(raw, "grad", dict)),
        error=parse_error(error) if error is not None else None,
        stage=stage,
        facts=parse_facts(raw.get("facts")),
        swapped=_parse_swapped(raw),
    )


def _parse_swapped(raw: dict) -> Swapped | None:
    if "swapped" not in raw:
        return None
    swapped = raw["swapped"]
    if swapped is None:  # the second call raised
        return Swapped(None, None)
    return Swapped(parse_value(_field(swapped, "returned", dict)), parse_value(_field(swapped, "grad", dict)))


def _field(raw: Any, key: str, kind: type) -> Any:
    if not isinstance(raw, dict) or key not in raw:
        raise InvalidResult(f"missing field {key!r}")
    value = raw[key]
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is int:
        ok = type(value) is int
    elif kind is bool:
        ok = type(value) is bool
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise InvalidResult(f"field {key!r} has type {type(value).__name__}")
    return value
