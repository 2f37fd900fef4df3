"""Watch one call of an exercise function with torch's own hooks and report :class:`RunFacts`.

A ``TorchDispatchMode`` sees every aten op (inside a backward pass when the autograd engine's graph task id is
set); the engine's entry point ``torch.autograd._engine_run_backward`` and the public ``Tensor.backward`` /
``autograd.backward`` / ``autograd.grad`` / ``torch.tensor`` are wrapped for the duration and always put back.
Everything is bounded, and the recorder's own failure never becomes the student's: it yields no facts instead.
The facts are the child's own report (a submission can tamper with them); values are still compared in the
trusted process.
"""

from __future__ import annotations

import sys
import threading
import warnings
import weakref
from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader.runner.facts import BackwardCall, RunFacts
from grader.runner.traces import (MAX_OP_NAMES, BannedValues, count, from_torch, in_custom_forward, items, tensors,
                                  unwrapped)

MAX_NODES = 5000
"""Graph nodes walked per backward pass."""
MAX_CALLS = 64
MAX_LEAVES = 64
MAX_LEAF_OPS = 16
MAX_STACK = 200


_DERIVED, _FROM_BACKWARD, _GRAD_RESULT = 1, 2, 4
"""Computed from the input; made inside a backward pass (or only from such tensors); returned by autograd.grad."""


class _Mode(TorchDispatchMode):
    """Hands each aten op to the recorder after running it."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # True would import torch._dynamo on first use: 3.8 s per child (measured)

    def __init__(self, recorder: "Recorder") -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        recorder = self.recorder
        if not recorder.broken and threading.get_ident() == recorder._thread:
            try:
                recorder._record_op(func, args, kwargs, out)
            except Exception:  # noqa: BLE001 - the recorder's failure is never the student's
                recorder.broken = True
        return out


class Recorder:
    """Context manager around one call (and the grader's own backward, inside :meth:`grader_backward`)."""

    def __init__(self, x: torch.Tensor, given: torch.Tensor, source_file: str, banned: tuple[str, ...] = (),
                 ops: bool = True) -> None:
        self.x, self.given, self.source_file = x, given, source_file
        self._ops = ops
        self.broken = False
        self._thread = threading.get_ident()
        self._outside: dict[str, int] = {}
        self._inside: dict[str, int] = {}
        self._seen: dict[int, list] = {}
        """id(tensor) -> [flags (_DERIVED | _FROM_BACKWARD | _GRAD_RESULT), (op that made it, its first input) | None,
        a weak reference whose callback drops the entry]: nothing is kept alive, and an id is never read after its
        tensor is gone (a WeakIdKeyDictionary does the same, but allocates a reference on every look-up)."""
        self._nodes: set[str] = set()
        self._calls: list[BackwardCall] = []
        self._leaves: list[torch.Tensor] = []
        self._pending: list[tuple[str, bool]] = []
        self._grader = False
        self._grad_off = self._complex = self._custom = False
        self._restore: list[tuple[Any, str, Any]] = []
        self._names: dict[Any, str] = {}
        self._mode = _Mode(self)
        self._entered = False
        self._banned = self._guard(BannedValues, given, banned)

    # --- entering and leaving ---

    def __enter__(self) -> "Recorder":
        try:
            self._enter()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _enter(self) -> None:
        self._mark(self.x, _DERIVED)
        self._patch(torch.autograd, "_engine_run_backward", self._engine)
        self._patch(torch.Tensor, "backward", self._public("tensor.backward", 1, "gradient"))
        self._patch(torch.autograd, "backward", self._public("autograd.backward", 1, "grad_tensors"))
        self._patch(torch.autograd, "grad", self._public("autograd.grad", 2, "grad_outputs"))
        self._patch(torch, "tensor", self._tensor_factory)
        if self._ops:  # the dispatch mode is most of the recorder's cost: a light run goes without it
            self._mode.__enter__()
            self._entered = True

    def __exit__(self, *exc_info: Any) -> None:
        if self._entered:
            self._entered = False
            try:
                self._mode.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - the student may have left a mode of their own on the stack
                self.broken = True
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore.clear()

    def grader_backward(self) -> "_GraderPass":
        """While inside, backward passes are the grader's own (``d.backward()`` of protocol call_backward)."""
        return _GraderPass(self)

    def _patch(self, owner: Any, name: str, wrapper: Callable) -> None:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

        def patched(*args: Any, **kwargs: Any) -> Any:  # a function, so that it binds as a method on torch.Tensor
            return wrapper(original, *args, **kwargs)

        self._restore.append((owner, name, original))
        setattr(owner, name, patched)

    def _guard(self, step: Callable, *args: Any) -> Any:
        try:
            return step(*args)
        except Exception:  # noqa: BLE001 - the recorder's failure is never the student's
            self.broken = True
            return None

    # --- wrappers ---

    def _mine(self) -> bool:
        return threading.get_ident() == self._thread and not self.broken

    def _public(self, kind: str, position: int, keyword: str) -> Callable:
        def wrapper(original: Callable, *args: Any, **kwargs: Any) -> Any:
            outermost = not self._pending
            if outermost:
                given = len(args) > position and args[position] is not None or kwargs.get(keyword) is not None
                self._pending.append((kind, bool(given)))
            try:
                return original(*args, **kwargs)
            finally:
                if outermost:
                    self._pending.clear()
        return wrapper

    def _tensor_factory(self, original: Callable, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(2)
        with warnings.catch_warnings(record=True) as caught:
            made = original(*args, **kwargs)
        for warning in caught:  # shown at the student's line, as without the wrapper, not at this module's
            warnings.warn_explicit(warning.message, warning.category, caller.f_code.co_filename, caller.f_lineno,
                                   registry=caller.f_globals.setdefault("__warningregistry__", {}))
        if self._mine() and isinstance(made, torch.Tensor):
            self._guard(self._made_by, made, "lift_fresh", None, True)
        return made

    def _engine(self, original: Callable, roots: Any, *args: Any, **kwargs: Any) -> Any:
        accumulate = kwargs.get("accumulate_grad", True) is not False
        before = self._guard(self._before_pass, roots, args, accumulate) if self._mine() else None
        result = original(roots, *args, **kwargs)
        if before is not None:
            self._guard(self._after_pass, result, accumulate)
        return result

    def _before_pass(self, roots: Any, args: tuple, accumulate: bool) -> bool:
        roots = tuple(r for r in roots if isinstance(r, torch.Tensor))
        if self._grader:
            kind, given = "grader", False
        elif self._pending:
            kind, given = self._pending[0]
        else:
            kind, given = ("autograd.backward" if accumulate else "autograd.grad"), False
        retain = bool(args[1]) if len(args) > 1 else False
        if len(self._calls) < MAX_CALLS:
            line = 0 if self._grader else self._student_line()
            self._calls.append(BackwardCall(kind, line, bool(given),  # type: ignore[arg-type]
                                            retain, bool(roots) and all(r.dim() == 0 for r in roots)))
        self._walk(roots)
        if not accumulate and len(args) > 3:
            for tensor in args[3]:
                if isinstance(tensor, torch.Tensor):
                    self._add_leaf(unwrapped(tensor))
        return True

    def _after_pass(self, result: Any, accumulate: bool) -> None:
        if not accumulate:
            for tensor in result or ():
                if isinstance(tensor, torch.Tensor):
                    self._mark(tensor, _GRAD_RESULT | _FROM_BACKWARD)
        for leaf in self._leaves:
            if leaf.is_leaf and leaf.grad is not None:  # .grad of a non-leaf only warns
                self._mark(leaf.grad, _FROM_BACKWARD)

    def _walk(self, roots: tuple) -> None:
        todo = [r.grad_fn for r in roots if r.grad_fn is not None]
        seen: dict[int, Any] = {}
        while todo and len(seen) < MAX_NODES:
            node = todo.pop()
            if node is None or id(node) in seen:
                continue
            seen[id(node)] = node  # kept alive so that ids stay unique during the walk
            name = type(node).__name__
            if len(self._nodes) < MAX_OP_NAMES:
                self._nodes.add(name[:80])
            if isinstance(node, torch.autograd.function.BackwardCFunction):
                self._custom = True
            variable = getattr(node, "variable", None) if name == "AccumulateGrad" else None
            if isinstance(variable, torch.Tensor):
                self._add_leaf(variable)
            todo.extend(edge[0] for edge in node.next_functions[:MAX_NODES])

    def _add_leaf(self, tensor: torch.Tensor) -> None:
        if len(self._leaves) < MAX_LEAVES and not any(tensor is leaf for leaf in self._leaves):
            self._leaves.append(tensor)

    def _student_line(self) -> int:
        frame, depth = sys._getframe(1), 0
        while frame is not None and depth < MAX_STACK:
            if frame.f_code.co_filename == self.source_file:
                return frame.f_lineno or 0
            frame, depth = frame.f_back, depth + 1
        return 0

    # --- ops ---

    def _record_op(self, func: Any, args: tuple, kwargs: dict | None, out: Any) -> None:
        """One aten op, run by ``_Mode.__torch_dispatch__`` (so the frame two up is the Python code that called it)."""
        name = self._names.get(func)
        if name is None:
            packet = getattr(func, "overloadpacket", None)
            name = self._names[func] = str(getattr(packet, "__name__", None) or getattr(func, "__name__", "?"))[:80]
        inputs = [a for a in args if type(a) is torch.Tensor]
        if len(inputs) != len(args) or kwargs:  # lists of tensors (cat, stack), subclasses, keyword tensors
            inputs = tensors(args) + tensors(tuple(kwargs.values())) if kwargs else tensors(args)
        outputs = [out] if type(out) is torch.Tensor else tensors((out,))
        if torch._C._current_graph_task_id() != -1:
            count(self._inside, name)
            for tensor in outputs:
                self._entry(tensor)[0] |= _FROM_BACKWARD
            if not self._custom and not from_torch(sys._getframe(2)):
                self._custom = True  # student code (a hook, a custom Function's backward) runs inside backward
            return
        if self._grader:
            return
        count(self._outside, name)
        derived, tainted = False, bool(inputs)
        seen = self._seen
        for tensor in inputs:
            entry = seen.get(id(tensor))
            flags = entry[0] if entry is not None else 0
            derived = derived or bool(flags & _DERIVED)
            tainted = tainted and bool(flags & _FROM_BACKWARD)
        parent = self._entry(inputs[0]) if inputs else None
        flags = (_DERIVED if derived else 0) | (_FROM_BACKWARD if tainted else 0)
        for tensor in outputs:
            entry = self._entry(tensor)
            entry[0] |= flags
            if entry[1] is None:
                entry[1] = (name, parent)
            if tensor.is_complex():
                self._complex = True
        if derived and not self._grad_off and (not torch.is_grad_enabled() or torch.is_inference_mode_enabled()):
            self._grad_off = not in_custom_forward(sys._getframe(2))
        if self._banned.targets:
            for tensor in inputs + outputs:
                if not self._flags(tensor) & _FROM_BACKWARD:
                    self._banned.check(tensor)

    def _flags(self, tensor: torch.Tensor) -> int:
        entry = self._seen.get(id(tensor))
        return entry[0] if entry is not None else 0

    def _entry(self, tensor: torch.Tensor) -> list:
        """[flags, (op, the entry of its first input) | None, weak reference]; the entry outlives its tensor only
        as a link in another entry's history, and an id is never read after its tensor is gone."""
        key = id(tensor)
        entry = self._seen.get(key)
        if entry is None:
            seen = self._seen
            entry = seen[key] = [0, None, weakref.ref(tensor, lambda _, key=key: seen.pop(key, None))]
        return entry

    def _mark(self, tensor: torch.Tensor, flags: int) -> None:
        self._entry(tensor)[0] |= flags

    def _made(self, tensor: torch.Tensor) -> tuple[str, Any] | None:
        entry = self._seen.get(id(tensor))
        return entry[1] if entry is not None else None

    def _made_by(self, tensor: torch.Tensor, name: str, parent: torch.Tensor | None, overwrite: bool) -> None:
        entry = self._entry(tensor)
        if entry[1] is None or overwrite:
            entry[1] = (name, self._entry(parent) if parent is not None else None)

    # --- the report ---

    def facts(self, returned: Any) -> RunFacts | None:
        """What the call did; None when the recorder itself failed."""
        if self.broken:
            return None
        try:
            return self._facts(returned)
        except Exception:  # noqa: BLE001 - the recorder's failure is never the student's
            return None

    def _facts(self, returned: Any) -> RunFacts:
        with torch.no_grad():
            for item in items(returned) + [self.x.grad]:
                made_by_no_op = isinstance(item, torch.Tensor) and self._made(item) is None
                if made_by_no_op and not self._flags(item) & _FROM_BACKWARD:
                    self._banned.check(item)  # made without any op: torch.from_numpy(np.cos(...)), x.grad = ...
            new = [leaf for leaf in self._leaves if leaf is not self.x and unwrapped(leaf) is not self.x
                   and not (leaf.grad_fn is not None and self._flags(leaf) & _DERIVED)]
            own = len(new) < len(self._leaves)
            leaves = ("mixed" if own and new else "new" if new else "input" if own else "none")
            ops: list[str] = []
            for leaf in new:
                for op in self._origin(leaf):
                    if op not in ops and len(ops) < MAX_LEAF_OPS:
                        ops.append(op)
            return RunFacts(
                leaves=leaves,  # type: ignore[arg-type]
                new_leaf_ops=tuple(ops),
                grad_mode_off=self._grad_off,
                backward_calls=tuple(self._calls),
                returned=tuple(self._returned_kind(item) for item in items(returned)) if isinstance(
                    returned, (tuple, list)) else (self._returned_kind(returned),),
                ops_outside_backward=tuple(sorted(self._outside.items())),
                ops_in_backward=tuple(sorted(self._inside.items())),
                backward_nodes=tuple(sorted(self._nodes)),
                new_leaf_from_input=bool(new) and all(self._holds_input(leaf) for leaf in new),
                complex_outside_backward=self._complex,
                forbidden_outside_backward=tuple(self._banned.seen),
                custom_backward=self._custom,
                ops_recorded=self._ops,
            )

    def _origin(self, tensor: torch.Tensor) -> list[str]:
        """The ops that made ``tensor`` from the input (or from nothing), first one first."""
        chain: list[str] = []
        entry = self._seen.get(id(tensor))
        stop = self._seen.get(id(self.x))
        while entry is not None and entry is not stop and len(chain) < MAX_LEAF_OPS:
            if entry[1] is None:
                chain.append("unknown")
                break
            name, entry = entry[1]
            chain.append(name)
        return chain[::-1] or ["unknown"]

    def _holds_input(self, leaf: torch.Tensor) -> bool:
        given = self.given
        if tuple(leaf.shape) != tuple(given.shape) or not leaf.is_floating_point():
            return False
        return bool(torch.equal(leaf.detach().to(torch.float64), given.detach().to(torch.float64)))

    def _returned_kind(self, item: Any) -> str:
        if not isinstance(item, torch.Tensor):
            return "other"
        if item is self.x:
            return "input"
        if self.x.grad is not None and item is self.x.grad:
            return "input_grad"
        if any(leaf.is_leaf and leaf.grad is not None and item is leaf.grad for leaf in self._leaves):
            return "leaf_grad"
        flags = self._flags(item)
        if flags & _GRAD_RESULT or (flags & _FROM_BACKWARD and self._made(item) is None):
            return "autograd_grad"  # made inside a backward pass: torch.func.grad's result is one
        return "value"


class _GraderPass:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def __enter__(self) -> None:
        self.recorder._grader = True

    def __exit__(self, *exc_info: Any) -> None:
        self.recorder._grader = False
