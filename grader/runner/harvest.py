"""Turn whatever a function returned (or raised) into plain, inert data.

Runs where the code under test runs: in the sandboxed child for students, in
the trusted process for references. The output holds only dicts, lists,
strings, numbers, None and plain ``torch.Tensor`` objects, so ``grader.runner.wire``
can send it as inert bytes and it carries no behaviour.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

import torch

from grader.runner.wire import ValueKind

if TYPE_CHECKING:
    from grader.runner.facts import RunFacts

MAX_ELEMENTS = 1 << 20
"""Tensors larger than this are described (shape, dtype) but not copied back."""
MAX_ITEMS = 8
MAX_MESSAGE = 2000
MAX_FRAMES = 8


def value(obj: Any, depth: int = 0) -> dict:
    """Describe one returned object as plain data (``grader.runner.outcome.parse_value`` reads it)."""
    if obj is None:
        return _described("none")
    if isinstance(obj, torch.Tensor):
        return _tensor(obj)
    if isinstance(obj, (bool, int, float)):
        try:
            number = float(obj)
        except (OverflowError, TypeError, ValueError):  # a 10**400 int, or a subclass that lies
            return _described("other", type=_type_name(obj))
        return _described("number", type=type(obj).__name__, value=number)
    if isinstance(obj, (tuple, list)) and depth == 0:
        return _described(
            "sequence",
            type=type(obj).__name__,
            length=len(obj),
            items=[value(item, depth + 1) for item in list(obj)[:MAX_ITEMS]],
        )
    return _described("other", type=_type_name(obj))


def facts(recorded: "RunFacts | None") -> dict | None:
    """The recorder's facts as plain data (``grader.runner.facts.parse_facts`` reads them), None for none."""
    if recorded is None:
        return None
    return {
        "leaves": recorded.leaves,
        "new_leaf_ops": list(recorded.new_leaf_ops),
        "grad_mode_off": recorded.grad_mode_off,
        "backward_calls": [[c.kind, c.line, c.gradient_given, c.retain_graph, c.root_scalar]
                           for c in recorded.backward_calls],
        "returned": list(recorded.returned),
        "ops_outside_backward": [[op, n] for op, n in recorded.ops_outside_backward],
        "ops_in_backward": [[op, n] for op, n in recorded.ops_in_backward],
        "backward_nodes": list(recorded.backward_nodes),
        "new_leaf_from_input": recorded.new_leaf_from_input,
        "complex_outside_backward": recorded.complex_outside_backward,
        "forbidden_outside_backward": list(recorded.forbidden_outside_backward),
        "custom_backward": recorded.custom_backward,
        "ops_recorded": recorded.ops_recorded,
    }


def _described(kind: ValueKind, **fields: Any) -> dict:
    return {"kind": kind, **fields}


def _tensor(tensor: torch.Tensor) -> dict:
    exact = type(tensor) is torch.Tensor
    try:
        # A subclass may lie through __eq__, allclose or __torch_function__: strip it to the plain
        # storage before anything else touches it.
        plain = tensor if exact else torch.Tensor.as_subclass(tensor, torch.Tensor)
        grad_fn = type(plain.grad_fn).__name__ if plain.grad_fn is not None else ""
        described = _described(
            "tensor",
            type=_type_name(tensor),
            exact_type=exact,
            shape=list(plain.shape),
            dtype=str(plain.dtype).removeprefix("torch."),
            requires_grad=bool(plain.requires_grad),
            grad_fn=grad_fn,
            data=None,
        )
        if plain.numel() <= MAX_ELEMENTS and plain.layout == torch.strided:
            described["data"] = plain.detach().to("cpu").clone().contiguous()
        return described
    except Exception:  # noqa: BLE001 - a broken tensor is reported, never fatal
        return _described("other", type=_type_name(tensor))


def exception(error: BaseException, source_file: str) -> dict:
    """Describe an exception, keeping only the frames in the student's own file."""
    frames = [
        [frame.filename, frame.lineno or 0, frame.name, (frame.line or "").strip()]
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename == source_file
    ][-MAX_FRAMES:]
    described = {
        "type": type(error).__name__,
        "message": _safe_str(error)[:MAX_MESSAGE],
        "frames": frames,
    }
    if isinstance(error, SyntaxError):
        described["frames"] = [[source_file, error.lineno or 0, "<module>", (error.text or "").strip()]]
    if isinstance(error, ImportError) and error.name:
        described["module"] = error.name
    return described


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a student's __str__ may raise
        return f"<{type(error).__name__}>"


def _type_name(obj: Any) -> str:
    kind = type(obj)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module in ("builtins", "") else f"{module}.{name}"
