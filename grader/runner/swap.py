"""The swap run: the student's function called again while autograd's own derivative of the configured graph nodes
is changed in a way only the grader knows, so that a result that really came out of autograd's backward changes
with it and one computed any other way does not.

For ex06 (``through: [SinBackward0]``), every gradient leaving a ``SinBackward0`` node is multiplied by a
factor drawn from a seed the trusted process chose: an honest ``x.grad`` becomes ``k · cos(x)``, the reference
solution under the same swap gives the same, and a cosine computed outside backward — by any route, fed in by a
do-nothing ``(sin(x) * 0).sum().backward()``, a hook, a write into ``x.grad``'s memory or another thread — stays
``cos(x)``. The comparison happens in the trusted process (grader.core.behaviour); this module only installs the
swap, for the duration of one call, on every backward pass started through the engine's entry point.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

_MAX_NODES = 10_000


def factor(seed: int) -> float:
    """The swap's scale for ``seed``: in [0.5, 0.9] or [1.1, 1.5], never near 1, the same in every process. A
    constant, so that it also holds under ``torch.func``'s transforms (no random op inside vmap)."""
    step = (seed * 2654435761) % 801 / 1000  # 0 … 0.8, spread over seeds
    return 0.5 + step if step <= 0.4 else 0.7 + step


class Swap:
    """Within ``with Swap(nodes, seed):`` every backward pass scales what the named graph nodes hand on."""

    def __init__(self, nodes: tuple[str, ...], seed: int) -> None:
        self._nodes, self._seed = frozenset(nodes), seed
        self._original: Callable | None = None

    def __enter__(self) -> "Swap":
        self._original = torch.autograd._engine_run_backward
        original = self._original

        def swapped(t_outputs: Any, *args: Any, **kwargs: Any) -> Any:
            handles = self._hook(t_outputs)
            try:
                return original(t_outputs, *args, **kwargs)
            finally:
                for handle in handles:
                    handle.remove()

        torch.autograd._engine_run_backward = swapped
        return self

    def __exit__(self, *exc_info: Any) -> None:
        torch.autograd._engine_run_backward = self._original

    def _hook(self, t_outputs: Any) -> list:
        roots = [t.grad_fn for t in (t_outputs if isinstance(t_outputs, (tuple, list)) else (t_outputs,))
                 if isinstance(t, torch.Tensor) and t.grad_fn is not None]
        seen: set[int] = set()
        handles = []
        while roots and len(seen) < _MAX_NODES:
            node = roots.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            if node.name() in self._nodes:
                handles.append(node.register_hook(self._scale))
            roots.extend(next_node for next_node, _ in node.next_functions)
        return handles

    def _scale(self, grad_inputs: tuple, grad_outputs: tuple) -> tuple:
        k = factor(self._seed)
        return tuple(g * k if isinstance(g, torch.Tensor) and g.is_floating_point() else g for g in grad_inputs)
