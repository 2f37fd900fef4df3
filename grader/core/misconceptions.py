"""Name a misconception from what the code did (the run's RunFacts) and from the shapes of what came back.

Value patterns alone misfire on mistakes nobody listed: an x.grad that is None
after the student DID call ``requires_grad_`` (on a tensor of their own), a
broken graph under ``torch.no_grad()``, a tuple returned in the wrong order.
This module only re-words a finding that already failed; it never changes a
verdict. Every rule is generic: it reads the calling protocol, the check's
target and the facts, never an exercise id, and its wording never asks an
exercise whose grader runs backward itself (``call_backward``) to call
``requires_grad_``, ``backward`` or ``retain_graph``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.core.exercises import PROTOCOL_CALL_BACKWARD, ExerciseSpec, CheckSpec
from grader.core.results import Message, message
from grader.runner.facts import BackwardCall, RunFacts
from grader.runner.outcome import CaseRun, ErrorInfo, NoneValue, SequenceValue, TensorValue, Value

if TYPE_CHECKING:
    import torch

    from grader.core.cases import Case

GRAD_KINDS = ("input_grad", "leaf_grad", "autograd_grad")
"""Returned kinds that are a gradient autograd produced."""

# Fragments of torch's messages when a tensor of a fixed size or dtype meets an input of another one.
_SIZE_ERRORS = (
    "must match the size", "of a different size", "of a different type", "is invalid for input of size",
    "size mismatch", "out of bounds", "inconsistent tensor size", "shape mismatch", "shapes cannot be multiplied",
    "expected scalar type", "should be the same", "attempting to assign a gradient", "must match the tensor's",
    "Mismatch in shape",
)
_BACKWARD_ERRORS = ("no_requires_grad", "nonscalar_backward", "backward_twice")
"""Known errors only a backward pass raises."""
_OP_SPELLING = {"lift_fresh": "torch.tensor(...)", "_to_copy": ".float() / .double() / .to(...)",
                "clone": ".clone()", "detach": ".detach()", "copy_": ".copy_(...)", "alias": ".detach()"}
_OWN_GRID_OPS = ("arange", "linspace", "logspace", "randn", "rand", "full", "ones", "zeros", "empty", "lift_fresh")


def facts_of(run: CaseRun) -> RunFacts | None:
    """The run's facts; None when the child's recorder failed or sent nothing readable."""
    return run.facts


def student_backwards(facts: RunFacts) -> tuple[BackwardCall, ...]:
    """The backward passes the student's code started (not the grader's own ``d.backward()``)."""
    return tuple(call for call in facts.backward_calls if call.kind != "grader")


def grad_without_backward(spec: ExerciseSpec, run: CaseRun) -> bool:
    """The input's .grad holds a tensor although no backward pass ran at all (it was assigned by hand)."""
    facts = facts_of(run)
    return (facts is not None and spec.protocol != PROTOCOL_CALL_BACKWARD and not facts.backward_calls
            and isinstance(run.grad, TensorValue))


def explain(spec: ExerciseSpec, check: CheckSpec, case: "Case", run: CaseRun, expected: CaseRun,
            current: Message) -> Message | None:
    """A better message for a failing finding whose generic problem is ``current``; None keeps it."""
    facts = facts_of(run)
    own = student_backwards(facts) if facts is not None else ()
    returned_wrong = _returned_problem(spec, check, facts, expected) if facts is not None else None
    if returned_wrong is not None:
        return returned_wrong
    if spec.protocol == PROTOCOL_CALL_BACKWARD and own:
        return _at_line("hint.backward_in_f", "hint.backward_in_f.nowhere", own[0].line, function=spec.function)
    if run.error is not None:
        return _error(spec, case, run.error, facts, own, current)
    swapped = swapped_outputs(spec, run, expected)
    if swapped is not None and check.target.startswith("returned."):
        return swapped
    if facts is None:
        return _without_facts(spec, current)
    broken = isinstance(run.grad, NoneValue) or current.key.startswith("no_grad_fn")
    if facts.grad_mode_off and broken:
        return _by_protocol("hint.grad_disabled", "hint.grad_disabled.call_backward", spec)
    if facts.leaves == "new" and isinstance(run.grad, NoneValue):
        return _new_leaf(spec, facts)
    if check.target == "grad" and facts.leaves == "mixed" and spec.protocol != PROTOCOL_CALL_BACKWARD:
        return message("hint.new_leaf.partial", input=spec.input_name, ops=made_with(facts.new_leaf_ops))
    if check.target == "grad":
        if len(own) >= 2 and any(call.retain_graph for call in own):
            return message("hint.retain_graph_twice", count=len(own), input=spec.input_name)
        if not own and spec.protocol != PROTOCOL_CALL_BACKWARD and isinstance(run.grad, TensorValue):
            if _roughly(run.grad, expected.grad):
                return message("hint.finite_difference", noun=check.noun)
            return message("hint.grad_assigned", input=spec.input_name)
        if current.key == "hint.through_detach" and _detached_items_are_detached(spec, run):
            # The tensor that must be a constant is detached, yet the gradient flowed through its source: it was
            # detached after the product was computed from the original.
            return message("hint.detached_wrong.order")
        if current.key == "hint.weighted_backward" and own and not any(call.gradient_given for call in own):
            return message("hint.scaled_gradient", **current.values)
    return _without_facts(spec, current)


def _detached_items_are_detached(spec: ExerciseSpec, run: CaseRun) -> bool:
    """Every item a ``detached`` check reads is a tensor with no grad_fn that does not require grad."""
    items = [_item(run, c.target) for c in spec.checks if c.kind == "detached"]
    return bool(items) and all(isinstance(v, TensorValue) and not v.grad_fn and not v.requires_grad for v in items)


def _item(run: CaseRun, path: str) -> Value | None:
    """The value at 'returned', 'returned.N' or 'grad'; None when the returned value has no such item."""
    if path == "grad":
        return run.grad
    if "." not in path:
        return run.returned
    index = int(path.split(".")[1])
    returned = run.returned
    return returned.items[index] if isinstance(returned, SequenceValue) and index < len(returned.items) else None


def _returned_problem(spec: ExerciseSpec, check: CheckSpec, facts: RunFacts, expected: CaseRun) -> Message | None:
    """The returned object is the input itself, or a gradient where the reference returns a value."""
    if not check.target.startswith("returned"):
        return None
    index = int(check.target.split(".")[1]) if "." in check.target else 0
    kind = facts.returned[index] if index < len(facts.returned) else "other"
    expected_facts = facts_of(expected)
    expected_kind = (expected_facts.returned[index] if expected_facts is not None
                     and index < len(expected_facts.returned) else "value")
    if kind == "input":
        return message("hint.returned_input", noun=check.noun, input=spec.input_name)
    if kind in GRAD_KINDS and expected_kind not in GRAD_KINDS and not _close(expected.returned, expected.grad):
        # (a reference whose result IS its gradient, as in a derivative exercise, returns a copy of it)
        return message("hint.returned_grad", noun=check.noun, input=spec.input_name)
    return None


def _roughly(got: Value, want: Value) -> bool:
    """Close to the reference within a few per cent, yet not equal: an estimate, not autograd's exact value."""
    from grader.core.compare import is_close

    if not (isinstance(got, TensorValue) and isinstance(want, TensorValue)) or got.data is None or want.data is None:
        return False
    a, b = got.data, want.data
    if a.shape != b.shape or a.dtype != b.dtype or not b.numel():
        return False
    scale = float(b.abs().max())
    return scale > 0 and is_close(a, b, rtol=0.05, atol=0.05 * scale) and not is_close(a, b)


def _error(spec: ExerciseSpec, case: "Case", error: ErrorInfo, facts: RunFacts | None,
           own: tuple[BackwardCall, ...], current: Message) -> Message | None:
    if spec.protocol == PROTOCOL_CALL_BACKWARD and current.key in _BACKWARD_ERRORS:
        if error.frames:
            # A backward error raised inside the function: it ran backward itself, which the grader does.
            return _at_line("hint.backward_in_f", "hint.backward_in_f.nowhere", error.frames[-1].line,
                            function=spec.function)
        if current.key == "backward_twice":
            # The grader's own backward found the graph already freed: only the function can have run one.
            return message("hint.backward_in_f.nowhere", function=spec.function)
        return _unlocated(spec, error, current)
    if not case.public and error.type_name in ("RuntimeError", "IndexError", "ValueError") and any(
            fragment in error.message for fragment in _SIZE_ERRORS):
        return message("hint.hard_coded_size", input=spec.input_name)
    if current.key == "no_requires_grad" and facts is not None:
        if facts.grad_mode_off:
            return _by_protocol("hint.grad_disabled", "hint.grad_disabled.call_backward", spec)
        if facts.leaves == "new":
            return _new_leaf(spec, facts)
        if dict(facts.ops_outside_backward).get("detach", 0):
            # backward() on something detach() cut from the graph: the wrong tensor was detached.
            return message("hint.detached_wrong.backward", line=current.values.get("line", 0),
                           code=current.values.get("code", ""))
    if current.key == "backward_twice":
        line = own[-1].line if own else current.values.get("line", 0)
        return _at_line("backward_twice.once", "backward_twice.once.nowhere", line, error=current.values.get("error", ""))
    if not error.frames:
        return _unlocated(spec, error, current)
    return None


def _unlocated(spec: ExerciseSpec, error: ErrorInfo, current: Message) -> Message:
    """An error raised where no line of the student's file was on the stack: no '? line 0'."""
    text = f"{error.type_name}: {error.message.strip().splitlines()[0] if error.message.strip() else ''}".strip()
    if spec.protocol == PROTOCOL_CALL_BACKWARD:
        return message("raised.grader_backward", error=text)
    return message("raised.unlocated", error=text)


def _without_facts(spec: ExerciseSpec, current: Message) -> Message | None:
    """Protocol-aware wording that needs no facts: a call_backward exercise is never told to call
    requires_grad_ (the grader does that)."""
    if spec.protocol == PROTOCOL_CALL_BACKWARD and current.key == "grad_none":
        return message("grad_none.call_backward", function=spec.function, **current.values)
    return None


def _new_leaf(spec: ExerciseSpec, facts: RunFacts) -> Message:
    ops = made_with(facts.new_leaf_ops)
    grid = not facts.new_leaf_from_input and any(op in _OWN_GRID_OPS for op in facts.new_leaf_ops)
    if grid and not any(c.target == "grad" for c in spec.checks):
        # No check reads the input's .grad: the result itself is judged, at points the student chose.
        return message("hint.own_grid", ops=ops, input=spec.input_name)
    return _by_protocol("hint.new_leaf", "hint.new_leaf.call_backward", spec, ops=ops)


def made_with(ops: tuple[str, ...]) -> str:
    """The student's own code behind torch's op names: 'torch.tensor(...)' for lift_fresh, ..."""
    return ", ".join(dict.fromkeys(_OP_SPELLING.get(op, f"torch.{op}(...)") for op in ops)) or "-"


def _by_protocol(key: str, call_backward_key: str, spec: ExerciseSpec, **params: object) -> Message:
    """Worded by calling protocol: under call_backward the grader makes the input require grad and runs
    backward itself, so the advice must not ask for either."""
    if spec.protocol == PROTOCOL_CALL_BACKWARD:
        return message(call_backward_key, input=spec.input_name, function=spec.function, **params)
    return message(key, input=spec.input_name, **params)


def _at_line(key: str, nowhere_key: str, line: int, **params: object) -> Message:
    """``key`` citing the student's line, or ``nowhere_key`` when no line of theirs is known."""
    if line > 0:
        return message(key, line=line, **params)
    return message(nowhere_key, **params)


def swapped_outputs(spec: ExerciseSpec, run: CaseRun, expected: CaseRun) -> Message | None:
    """The returned tuple holds the reference's items in another order: name the order to return."""
    got, want = run.returned, expected.returned
    if not (isinstance(got, SequenceValue) and isinstance(want, SequenceValue)) or got.length != want.length:
        return None
    count = min(len(got.items), len(want.items))
    if count < 2 or all(_close(got.items[i], want.items[i]) for i in range(count)):
        return None
    permutation = []
    for i in range(count):
        match = next((j for j in range(count) if j not in permutation and _close(got.items[i], want.items[j])), None)
        if match is None:
            return None
        permutation.append(match)
    if permutation == list(range(count)):
        return None
    nouns = {int(c.target.split(".")[1]): c.noun for c in spec.checks if c.target.startswith("returned.")}
    names = "(" + ", ".join(nouns.get(i, "…") for i in range(count)) + ")"
    yours = "(" + ", ".join(nouns.get(j, "…") for j in permutation) + ")"
    return message("hint.swapped_outputs", names=names, yours=yours)


def _close(got: Value, want: Value) -> bool:
    from grader.core.compare import is_close

    if not (isinstance(got, TensorValue) and isinstance(want, TensorValue)) or got.data is None or want.data is None:
        return False
    return got.data.shape == want.data.shape and is_close(got.data.to(want.data.dtype), want.data)


def value_model(spec: ExerciseSpec, check: CheckSpec, run: CaseRun, got: "torch.Tensor", reference: "torch.Tensor",
                given: "torch.Tensor", expected_grad: "torch.Tensor | None" = None) -> Message | None:
    """Generic wrong answers recognised from values (before the exercise's own hint plug-ins)."""
    from grader.core.compare import is_close

    facts = facts_of(run)
    own = student_backwards(facts) if facts is not None else ()
    n = given.numel()
    if check.target.startswith("returned"):
        if _same(got, given):
            return message("hint.returned_input", noun=check.noun, input=spec.input_name)
        reference_grad = expected_grad
        if reference_grad is not None and _same(got, reference_grad) and not _same(reference, reference_grad):
            return message("hint.returned_grad", noun=check.noun, input=spec.input_name)
    if check.target == "grad" and n > 1 and got.shape == reference.shape and is_close(got, reference / n) and not any(
            call.gradient_given for call in own):
        return message("hint.mean_backward", n=n, input=spec.input_name)
    if check.target.startswith("returned") and got.shape == reference.shape and got.dtype == reference.dtype \
            and facts is not None and not facts.backward_calls and bool(reference.abs().max() > 0) \
            and is_close(got, reference, rtol=0.05, atol=0.05 * float(reference.abs().max())):
        return message("hint.finite_difference", noun=check.noun)
    return None


def _same(got: "torch.Tensor", want: "torch.Tensor") -> bool:
    from grader.core.compare import is_close

    return got.shape == want.shape and is_close(got, want.to(got.dtype))


def shape_problem(spec: ExerciseSpec, check: CheckSpec, case: "Case", mismatch) -> Message | None:
    """A value of the wrong shape: a vector where a scalar is expected, or (on a hidden case only) a shape or dtype
    fixed to the book's example."""
    if mismatch.kind == "shape" and mismatch.expected_shape == () and len(mismatch.actual_shape) >= 1:
        return message("hint.vector_not_scalar", noun=check.noun, shape=list(mismatch.actual_shape))
    if mismatch.kind in ("shape", "dtype") and not case.public:
        return message("hint.hard_coded_size", input=spec.input_name)
    return None
