"""Name what went wrong in generic terms: known errors, values that are not tensors, missing graphs.

Exercise-specific wrong answers (twice the right gradient, 4x + 1, 3x², ...)
are recognised by the hint plug-ins an exercise lists (grader.core.hints).
"""

from __future__ import annotations

import re

from grader.core.exercises import CallingProtocol
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
                           error=f"{error.type_name}: {error.message}".strip(), name=_receiver(key, text))
    return message("raised", file=filename, line=line, code=text, type=error.type_name,
                   error=_first_line(error.message))


# The tensor the student's failing line called backward() on, or whose .grad it cleared: the advice names it.
_RECEIVERS = {"nonscalar_backward": re.compile(r"([A-Za-z_][\w]*(?:\[[^\]]*\])?)\s*\.backward\("),
              "zero_none_grad": re.compile(r"([A-Za-z_][\w]*)\.grad\.zero_\(")}


def _receiver(key: str, code: str) -> str:
    pattern = _RECEIVERS.get(key)
    found = pattern.search(code) if pattern is not None else None
    return found.group(1) if found else ("y" if key == "nonscalar_backward" else "x")


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


def graph_problem(protocol: CallingProtocol, noun: str) -> Message:
    """The feedback when a result that must carry a graph has no grad_fn.

    Worded by calling protocol: under call_backward the grader makes the input require grad itself,
    so the advice is to stay in tensor operations, not to call requires_grad_.
    """
    return message("no_grad_fn.call_backward" if protocol == "call_backward" else "no_grad_fn", noun=noun)


def _student_line(error: ErrorInfo) -> tuple[int, str]:
    if error.frames:
        frame = error.frames[-1]
        return frame.line, frame.text
    return 0, ""


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""
