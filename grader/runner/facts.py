"""What the code did on one case, as inert data: the facts the diagnosis reads ("diagnosis from what
the code did").

The recorder in the child (:mod:`grader.runner.recorder`) observes the run; this module only holds the
shape of what it reports and reads it back totally (anything else gives no facts: ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Leaves = Literal["input", "new", "mixed", "none"]
"""The graph's leaves that received gradient: the grader's own input, a tensor the student made, both, or none."""

BackwardKind = Literal["tensor.backward", "autograd.backward", "autograd.grad", "grader"]
"""How a backward pass was started; ``grader`` is the grader's own ``d.backward()`` (protocol call_backward)."""

ReturnedKind = Literal["value", "input", "input_grad", "leaf_grad", "autograd_grad", "other"]
"""What a returned object is, by identity in the child: a computed tensor, the grader's input itself, the very
``x.grad`` tensor, the ``.grad`` of a leaf the student made, a tensor ``torch.autograd.grad`` returned (or one made
inside a backward pass, as ``torch.func.grad``'s result is), or anything else (number, None, ...). A copy such as
``x.grad.clone()`` is a 'value'."""


@dataclass(frozen=True)
class BackwardCall:
    """One backward pass, in the order they ran."""

    kind: BackwardKind
    line: int
    """Line in the student's file that started it (0 when no frame of the student's file was on the stack)."""
    gradient_given: bool
    """A ``gradient=`` (or ``grad_outputs=``) argument was passed."""
    retain_graph: bool
    root_scalar: bool
    """Every root of the pass was a 0-dim tensor."""


@dataclass(frozen=True)
class RunFacts:
    """Facts about one call of one exercise function on one case."""

    leaves: Leaves
    new_leaf_ops: tuple[str, ...]
    """The aten ops that made the student's own leaves from the input or from nothing, first one first,
    deduplicated: 'arange', 'linspace', 'lift_fresh' (torch.tensor), '_to_copy' (x.double(), x.to(...); x.float() of
    a float32 x is x itself), 'clone', 'detach', 'unknown' (made by no op: torch.from_numpy); empty when ``leaves``
    is 'input' or 'none'."""
    grad_mode_off: bool
    """Some op on a tensor derived from the input ran with grad mode off (no_grad, inference_mode, ...)."""
    backward_calls: tuple[BackwardCall, ...]
    returned: tuple[ReturnedKind, ...]
    """One entry per returned object: one for a single value, one per item of a returned tuple/list."""
    ops_outside_backward: tuple[tuple[str, int], ...]
    """(aten op name without overload, count) run by the student's code outside any backward pass, sorted by name,
    at most 200 distinct names."""
    ops_in_backward: tuple[tuple[str, int], ...]
    """The same for ops run inside backward passes (autograd's own derivative formulas)."""
    backward_nodes: tuple[str, ...]
    """Names of the autograd graph nodes the backward passes traversed ('SinBackward0', 'SumBackward0', ...),
    sorted, deduplicated, at most 200."""
    new_leaf_from_input: bool
    """Every leaf the student made holds the input's values (``x.clone()``, ``x.float()``, ``torch.tensor(x)``)."""
    complex_outside_backward: bool
    """A complex-valued tensor was produced outside backward (e.g. exp(1j·x))."""
    forbidden_outside_backward: tuple[str, ...]
    """Names of the exercise's banned functions (``banned`` in config.yaml, e.g. 'cos') whose values, applied to the
    input, appeared as an input or output of an op outside autograd's own backward, however they were computed."""
    custom_backward: bool
    """A backward pass ran student-defined derivative code: a custom ``autograd.Function`` or a tensor hook."""
    ops_recorded: bool = True
    """The ops were watched (the dispatch mode was on). False in a light run — the first, shared run of an exercise
    that bans nothing, re-run in full if it falls short — where only backward passes, leaves and returned objects
    are known and the op-derived fields are empty."""


MAX_NAMES = 200
"""Distinct op or node names a report may hold (the recorder keeps at most this many)."""
MAX_CALLS = 64
MAX_TEXT = 80
_MAX_COUNT = 1 << 62


def parse_facts(raw: Any) -> RunFacts | None:
    """Facts as ``grader.runner.harvest.facts`` wrote them; None when absent or not exactly that shape (a child
    that forges them loses them, it never crashes the grader)."""
    if not isinstance(raw, dict) or set(raw) != _FIELDS:
        return None
    try:
        calls = tuple(_call(entry) for entry in _bounded(raw["backward_calls"], MAX_CALLS))
        returned = tuple(_choice(kind, ReturnedKind) for kind in _bounded(raw["returned"], MAX_NAMES))
        return RunFacts(
            leaves=_choice(raw["leaves"], Leaves),
            new_leaf_ops=_names(raw["new_leaf_ops"]),
            grad_mode_off=_flag(raw["grad_mode_off"]),
            backward_calls=calls,
            returned=returned,
            ops_outside_backward=_counts(raw["ops_outside_backward"]),
            ops_in_backward=_counts(raw["ops_in_backward"]),
            backward_nodes=_names(raw["backward_nodes"]),
            new_leaf_from_input=_flag(raw["new_leaf_from_input"]),
            complex_outside_backward=_flag(raw["complex_outside_backward"]),
            forbidden_outside_backward=_names(raw["forbidden_outside_backward"]),
            custom_backward=_flag(raw["custom_backward"]),
            ops_recorded=_flag(raw["ops_recorded"]),
        )
    except _Unreadable:
        return None


_FIELDS = frozenset(RunFacts.__dataclass_fields__)


class _Unreadable(Exception):
    """A field of forged or damaged facts."""


def _bounded(value: Any, limit: int) -> list:
    if not isinstance(value, list) or len(value) > limit:
        raise _Unreadable
    return value


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise _Unreadable
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT:
        raise _Unreadable
    return value


def _choice(value: Any, kinds: Any) -> Any:
    if not isinstance(value, str) or value not in get_args(kinds):
        raise _Unreadable
    return value


def _names(value: Any) -> tuple[str, ...]:
    return tuple(_text(name) for name in _bounded(value, MAX_NAMES))


def _counts(value: Any) -> tuple[tuple[str, int], ...]:
    pairs = []
    for entry in _bounded(value, MAX_NAMES):
        if not (isinstance(entry, list) and len(entry) == 2 and type(entry[1]) is int and 0 < entry[1] <= _MAX_COUNT):
            raise _Unreadable
        pairs.append((_text(entry[0]), entry[1]))
    return tuple(pairs)


def _call(entry: Any) -> BackwardCall:
    if not (isinstance(entry, list) and len(entry) == 5):
        raise _Unreadable
    kind, line, gradient_given, retain_graph, root_scalar = entry
    if type(line) is not int or not 0 <= line <= 10_000_000:
        raise _Unreadable
    return BackwardCall(_choice(kind, BackwardKind), line, _flag(gradient_given), _flag(retain_graph),
                        _flag(root_scalar))
