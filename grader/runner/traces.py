"""Small pieces the recorder (``grader.runner.recorder``) uses: the banned functions' values, Python frames,
torch.func's wrappers, and bounded tensor lists.

Runs where the code under test runs; nothing here keeps state between calls.
"""

from __future__ import annotations

import os
from typing import Any

import torch

MAX_STACK = 200
"""Python frames looked at, walking up from an op."""
MAX_OP_NAMES = 200
"""Distinct op names counted (the rest of a flood is not)."""
MAX_ITEMS = 8
"""Returned items described, as ``grader.runner.harvest`` does."""
RTOL, ATOL = 1e-3, 1e-4
"""Loose: a banned function's values computed another way (sin(x + π/2) in float32) still match."""

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_RUNNER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class BannedValues:
    """The banned functions' values on the input, computed before the student's code runs, and the names of
    those that turned up since."""

    def __init__(self, given: torch.Tensor, banned: tuple[str, ...]) -> None:
        self.targets: list[tuple[str, torch.Tensor]] = []
        self.seen: list[str] = []
        if not banned:
            return
        base = given.detach()
        if not (base.is_floating_point() and base.numel() > 1):
            return
        with torch.no_grad():
            flat = base.reshape(-1).to(torch.float64)
            for name in banned:
                function = getattr(torch, name, None)
                if not callable(function):
                    continue
                target = function(base).reshape(-1).to(torch.float64)
                # A constant target, or one equal to the input itself, would match honest tensors too.
                if float(target.max() - target.min()) < 1e-3 or _close(flat, target) or _close(flat, -target):
                    continue
                self.targets.append((name, target))
        self.numel = base.numel()

    def check(self, tensor: torch.Tensor) -> None:
        """Note every banned function whose values (or their negation) ``tensor`` holds."""
        if not self.targets or tensor.numel() != self.numel or tensor.layout != torch.strided:
            return
        if not (tensor.is_floating_point() or tensor.is_complex()) or tensor.device.type == "meta":
            return
        values = tensor.detach().reshape(-1)
        values = (values.real if values.is_complex() else values).to(torch.float64)
        for name, target in self.targets:
            if name not in self.seen and (_close(values, target) or _close(values, -target)):
                self.seen.append(name)


def _close(values: torch.Tensor, target: torch.Tensor) -> bool:
    return bool(torch.allclose(values, target, rtol=RTOL, atol=ATOL, equal_nan=False))


def tensors(values: tuple) -> list[torch.Tensor]:
    found = []
    for value in values:
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            found.extend(v for v in value[:64] if isinstance(v, torch.Tensor))
    return found


def items(returned: Any) -> list:
    return list(returned)[:MAX_ITEMS] if isinstance(returned, (tuple, list)) else [returned]


def count(counts: dict[str, int], name: str) -> None:
    if name in counts:
        counts[name] += 1
    elif len(counts) < MAX_OP_NAMES:
        counts[name] = 1


def unwrapped(tensor: torch.Tensor) -> torch.Tensor:
    """The plain tensor under torch.func's wrappers (grad, vmap)."""
    functorch = torch._C._functorch
    depth = 0
    while functorch.is_functorch_wrapped_tensor(tensor) and depth < 16:
        tensor, depth = functorch.get_unwrapped(tensor), depth + 1
    return tensor


def from_torch(frame: Any) -> bool:
    """The Python frame that called into an op is torch's own or this module's (the engine, not a hook)."""
    while frame is not None and frame.f_code.co_filename.endswith(("_python_dispatch.py", "eval_frame.py")):
        frame = frame.f_back
    return frame is None or frame.f_code.co_filename.startswith((_TORCH_DIR, _RUNNER_DIR))


def in_custom_forward(frame: Any) -> bool:
    """A custom ``autograd.Function``'s forward is running (autograd runs it with grad mode off)."""
    depth = 0
    while frame is not None and depth < MAX_STACK:
        code = frame.f_code
        if code.co_name == "apply" and code.co_filename.endswith(os.path.join("autograd", "function.py")):
            return True
        frame, depth = frame.f_back, depth + 1
    return False
