"""Hint plug-ins: named recognisers of typical wrong answers, which an exercise's config block lists.

A hint inspects one kind of target (the returned value or the input's
``.grad``) and says whether the student's tensor equals a model of a known
mistake — twice the right gradient, 4x + 1, 3x², -cos(x) — under the same
tolerance as the verdict, never by guessing from text. A hint can also word
a time-out (``endless_loop``). Each names a catalogue message ``hint.<name>``
that says what went wrong and how to fix it. An exercise that lists no hints
still gets the generic diagnosis and torch-style mismatch detail.

torch is imported only when a model runs: the command line validates config
(which checks hint names) before it pays for torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Literal, Mapping

from grader.core.results import Message, message

if TYPE_CHECKING:
    import torch

Wrong = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
"""(expected, the case's input) -> the value the mistake produces."""
Inspects = Literal["grad", "returned", "timeout"]


@dataclass(frozen=True)
class Hint:
    """One named recogniser."""

    name: str
    inspects: Inspects
    """grad: a check on the input's .grad; returned: a check on a returned value; timeout: a run that hung."""
    wrong: Wrong | None = None
    """The model of the wrong answer; None for scaled hints (k × expected, any k != 1) and time-outs."""
    scaled: bool = False

    @property
    def key(self) -> str:
        return f"hint.{self.name}"

    def recognise(self, got: "torch.Tensor", expected: "torch.Tensor", given: "torch.Tensor") -> Message | None:
        """This hint's message when ``got`` is the modelled mistake, else None."""
        from grader.core.compare import is_close

        if self.scaled:
            # 0 × the answer is no gradient at all, not a factor; and one element is a multiple of anything, so
            # there only a whole factor (or its inverse) counts: 2× or ½ is a mistake's signature, 59.2134× is not.
            denominator = float((expected.flatten() * expected.flatten()).sum())
            if denominator == 0.0:
                return None
            k = float((got.flatten() * expected.flatten()).sum()) / denominator
            if expected.numel() < 2 and not (_whole(k) or (k != 0 and _whole(1 / k))):
                return None
            if abs(k) > 1e-3 and abs(k - 1.0) > 1e-3 and is_close(got, expected * k):
                return message(self.key, k=round(k, 4))
            return None
        if self.wrong is None:
            return None
        candidate = self.wrong(expected, given).to(got.dtype)
        if candidate.shape == got.shape and is_close(got, candidate) and not is_close(expected, candidate):
            return message(self.key)
        return None


def _whole(value: float) -> bool:
    return abs(value - round(value)) < 1e-3 * max(1.0, abs(value))


def _target_kind(target: str) -> Inspects:
    return "grad" if target == "grad" else "returned"


HINTS: Mapping[str, Hint] = MappingProxyType({hint.name: hint for hint in (
    Hint("accumulated_twice", "grad", lambda expected, given: 2 * expected),
    Hint("scaled_gradient", "grad", scaled=True),
    Hint("not_zeroed", "grad", lambda expected, given: expected + 4 * given),
    Hint("first_gradient_only", "grad", lambda expected, given: 4 * given),
    Hint("returned_first_y", "returned", lambda expected, given: 2 * (given * given).sum()),
    Hint("weighted_backward", "grad", scaled=True),
    Hint("returned_sum", "returned", lambda expected, given: (given * given).sum()),
    Hint("through_detach", "grad", lambda expected, given: 3 * given * given),
    Hint("detached_wrong", "grad", lambda expected, given: 2 * given * given),
    Hint("zeroed_after_backward", "grad", lambda expected, given: 0 * expected),
    Hint("missing_branch", "returned", lambda expected, given: expected / 100),
    Hint("fixed_iterations", "returned", scaled=True),
    Hint("returned_sin", "returned", lambda expected, given: given.sin()),
    Hint("negated_cosine", "returned", lambda expected, given: -expected),
    Hint("endless_loop", "timeout"),
)})
HINT_NAMES: tuple[str, ...] = tuple(HINTS)


def recognise(names: tuple[str, ...], target: str, got: "torch.Tensor", expected: "torch.Tensor",
              given: "torch.Tensor") -> Message | None:
    """The first listed hint that recognises ``got`` on a check of ``target``, or None."""
    for name in names:
        hint = HINTS[name]
        if hint.inspects != _target_kind(target):
            continue
        try:
            found = hint.recognise(got, expected, given)
        except (RuntimeError, ValueError):
            found = None  # the model does not apply to this shape or dtype
        if found is not None:
            return found
    return None


def timeout_message(names: tuple[str, ...], seconds: float, loops: tuple = (), case: str = "") -> Message:
    """How a run that hung is worded: a listed time-out hint's message, else the generic one; either quotes the
    student's own ``while`` loop and its line when the function has one (``loops``: grader.core.source_scan), and
    the public case it hung on when that is known (``case``, as the feedback shows the case)."""
    hint = next((HINTS[name] for name in names if HINTS[name].inspects == "timeout"), None)
    seconds = round(seconds, 1)
    if not loops:
        return message(hint.key if hint is not None else "timeout", seconds=seconds)
    where = {"loop": loops[0].text, "line": loops[0].line}
    if hint is None:
        if case:
            return message("timeout.loop_case", seconds=seconds, case=case, **where)
        return message("timeout.loop", seconds=seconds, **where)
    # every time-out hint has '.loop' and '.loop_case' variants (tests/test_i18n.py)
    if case:
        return message(f"{hint.key}.loop_case", seconds=seconds, case=case, **where)
    return message(f"{hint.key}.loop", seconds=seconds, **where)
