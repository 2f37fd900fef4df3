"""Name what went wrong: known errors, known wrong answers, and everything else plainly.

Each exercise knows its typical mistakes (SPEC §2's table and a few more).
A wrong answer is recognised by comparing the student's tensor with a model
of the mistake (twice the right gradient, 4x + 1, 3x², ...) under the same
tolerance as the verdict, never by guessing from text.
"""

from __future__ import annotations

from typing import Callable

import torch

from grader.core.compare import is_close
from grader.runner.outcome import ErrorInfo, NoneValue, NumberValue, OtherValue, SequenceValue, TensorValue, Value
from grader.core.results import Message, message

# (substring of the error message, catalogue key), first match wins.
_KNOWN_ERRORS: tuple[tuple[str, str, str], ...] = (
    ("NotImplementedError", "", "not_attempted"),
    ("RuntimeError", "does not require grad", "no_requires_grad"),
    ("RuntimeError", "grad can be implicitly created only for scalar outputs", "nonscalar_backward"),
    ("RuntimeError", "backward through the graph a second time", "backward_twice"),
    ("RuntimeError", "leaf Variable that requires grad is being used in an in-place operation", "inplace_leaf"),
    ("RuntimeError", "can't allocate memory", "out_of_memory"),
    ("MemoryError", "", "out_of_memory"),
    ("AttributeError", "'NoneType' object has no attribute 'zero_'", "zero_none_grad"),
    ("SystemExit", "", "called_exit"),
    ("RecursionError", "", "recursion"),
)


def error_problem(error: ErrorInfo) -> Message:
    """The feedback for an exception the student's code raised, at the student's own file and line."""
    line, text = _student_line(error)
    filename = error.frames[-1].filename if error.frames else "?"
    for type_name, fragment, key in _KNOWN_ERRORS:
        if error.type_name == type_name and fragment in error.message:
            return message(key, file=filename, line=line, code=text,
                           error=f"{error.type_name}: {error.message}".strip())
    return message("raised", file=filename, line=line, code=text, type=error.type_name,
                   error=_first_line(error.message))


def load_problem(error: ErrorInfo, filename: str) -> Message:
    """The feedback for a file that fails while it is imported."""
    line, text = _student_line(error)
    if error.type_name in ("SyntaxError", "IndentationError", "TabError"):
        return message("syntax_error", file=filename, line=line, code=text, error=_first_line(error.message))
    if error.type_name in ("ImportError", "ModuleNotFoundError"):
        return message("import_error", file=filename, line=line, module=error.module or error.message)
    if error.type_name == "NotImplementedError":
        return message("not_attempted", line=line, code=text, error=error.type_name)
    return message("raised_at_import", file=filename, line=line, code=text, type=error.type_name,
                   error=_first_line(error.message))


def value_problem(noun: str, got: Value, expect_tensor: bool = True) -> Message | None:
    """The feedback when ``got`` is not even a tensor (or a tensor we cannot read); None if it is one."""
    if isinstance(got, TensorValue):
        if not got.exact_type:
            return message("tensor_subclass", noun=noun, type=got.type_name)
        if got.data is None:
            return message("tensor_too_large", noun=noun, shape=list(got.shape))
        return None
    if isinstance(got, NoneValue):
        return message("grad_none" if noun.endswith(".grad") else "returned_none", noun=noun)
    if isinstance(got, NumberValue):
        return message("returned_number", noun=noun, type=got.type_name)
    if isinstance(got, SequenceValue):
        return message("returned_sequence", noun=noun, type=got.type_name, length=got.length)
    assert isinstance(got, OtherValue)
    return message("returned_other", noun=noun, type=got.type_name)


MistakeModel = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], "Message | None"]
"""(student's tensor, expected tensor, the case's input) -> a recognised mistake or None."""


def _scaled(key: str) -> MistakeModel:
    """The student's tensor is k times the expected one for a constant k != 1."""

    def model(got: torch.Tensor, expected: torch.Tensor, given: torch.Tensor) -> Message | None:
        denominator = float(torch.dot(expected.flatten(), expected.flatten()))
        if denominator == 0.0:
            return None
        k = float(torch.dot(got.flatten(), expected.flatten())) / denominator
        if abs(k - 1.0) > 1e-3 and is_close(got, expected * k):
            return message(key, k=round(k, 4))
        return None

    return model


def _matches(key: str, wrong: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> MistakeModel:
    """The student's tensor equals a known wrong answer ``wrong(expected, input)``."""

    def model(got: torch.Tensor, expected: torch.Tensor, given: torch.Tensor) -> Message | None:
        candidate = wrong(expected, given).to(got.dtype)
        if candidate.shape == got.shape and is_close(got, candidate) and not is_close(expected, candidate):
            return message(key)
        return None

    return model


def _doubled(key: str) -> MistakeModel:
    return _matches(key, lambda expected, given: 2 * expected)


MISTAKES: dict[tuple[str, str], tuple[MistakeModel, ...]] = {
    ("ex01", "x_grad"): (_doubled("ex01.grad_accumulated"), _scaled("scaled_gradient")),
    ("ex02", "x_grad"): (
        _matches("ex02.not_zeroed", lambda expected, given: expected + 4 * given),
        _matches("ex02.first_gradient", lambda expected, given: 4 * given),
    ),
    ("ex02", "y"): (_matches("ex02.returned_first_y", lambda expected, given: 2 * torch.dot(given, given)),),
    ("ex03", "x_grad"): (_scaled("ex03.weighted_gradient"),),
    ("ex03", "y"): (_matches("ex03.returned_sum", lambda expected, given: (given * given).sum()),),
    ("ex04", "x_grad"): (_matches("ex04.through_detach", lambda expected, given: 3 * given * given),),
    ("ex06", "dydx"): (
        _matches("ex06.returned_sin", lambda expected, given: torch.sin(given)),
        _matches("ex06.sign", lambda expected, given: -expected),
    ),
}


def mistake(exercise_id: str, check_id: str, got: torch.Tensor, expected: torch.Tensor,
            given: torch.Tensor) -> Message | None:
    """A recognised wrong answer for this check, or None."""
    for model in MISTAKES.get((exercise_id, check_id), ()):
        try:
            found = model(got, expected, given)
        except (RuntimeError, ValueError):
            found = None  # the model does not apply to this shape or dtype
        if found is not None:
            return found
    return None


def graph_problem(exercise_id: str, noun: str) -> Message:
    """The feedback when a result that must carry a graph has no grad_fn."""
    return message("ex05.graph_broken" if exercise_id == "ex05" else "no_grad_fn", noun=noun)


def _student_line(error: ErrorInfo) -> tuple[int, str]:
    if error.frames:
        frame = error.frames[-1]
        return frame.line, frame.text
    return 0, ""


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""
