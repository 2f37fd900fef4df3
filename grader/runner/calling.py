"""The calling protocol: how an exercise function is called on one case.

The same code drives the student's function (in the sandboxed child) and the
reference solution (in the trusted process), so both are observed the same
way: the value returned AND the side effect on the grader's own input
tensor (``x.grad``), plus the facts of what the code did (``grader.runner.recorder``).
"""

from __future__ import annotations

from typing import Callable

import torch

from grader.runner import harvest
from grader.core.exercises import PROTOCOL_CALL_BACKWARD
from grader.runner.recorder import Recorder
from grader.runner.swap import Swap
from grader.runner.wire import Stage


def run_case(protocol: str, function: Callable, given: torch.Tensor, source_file: str,
             banned: tuple[str, ...] = (), swap: tuple[str, ...] = (), swap_seed: int = 0,
             record_ops: bool = True) -> dict:
    """Call ``function`` on a fresh copy of ``given`` and harvest what happened, as a case record.

    The record is ``{"error", "stage", "returned", "grad", "facts"}`` (see ``grader.runner.wire``), read back
    by ``grader.runner.outcome.parse_case``. ``banned``: the exercise's banned functions (config.yaml), whose
    values the recorder looks for outside autograd's backward. ``swap`` and ``swap_seed``: when given, the record
    also holds ``"swapped"``, what a second call returned while autograd's derivative of those graph nodes was
    scaled (grader.runner.swap). ``record_ops``: False for a light run (grader.runner.facts.RunFacts.ops_recorded).
    """
    x = _fresh_input(protocol, given)
    stage: Stage = "call"
    returned = None
    error = None
    recorder = Recorder(x, given, source_file, banned, record_ops)
    try:
        with recorder:
            returned = function(x)
            if _grader_backpropagates(protocol, returned):
                # The grader, not the student, runs backward here (the book's `d.backward()`).
                stage = "backward"
                with recorder.grader_backward():
                    returned.backward()
    except BaseException as raised:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are the student's too
        error = harvest.exception(raised, source_file)
    record = {"error": error, "stage": stage, "returned": harvest.value(returned), "grad": harvest.value(x.grad),
              "facts": harvest.facts(recorder.facts(returned))}
    if swap and swap_seed and error is None:
        record["swapped"] = _swapped(protocol, function, given, swap, swap_seed)
    return record


def _swapped(protocol: str, function: Callable, given: torch.Tensor, nodes: tuple[str, ...], seed: int) -> dict | None:
    """The returned value and the input's .grad of a second call under the swap; None if that call raised."""
    x = _fresh_input(protocol, given)
    try:
        with Swap(nodes, seed):
            returned = function(x)
            if _grader_backpropagates(protocol, returned):
                returned.backward()
    except BaseException:  # noqa: BLE001 - the first call's verdict stands; this one only fails the swap check
        return None
    return {"returned": harvest.value(returned), "grad": harvest.value(x.grad)}


def _fresh_input(protocol: str, given: torch.Tensor) -> torch.Tensor:
    """A copy of the case's input for one call; under call_backward the grader makes it require grad."""
    x = given.detach().clone()
    if protocol == PROTOCOL_CALL_BACKWARD:
        x.requires_grad_(True)
    return x


def _grader_backpropagates(protocol: str, returned: object) -> bool:
    """Whether the grader runs its own ``d.backward()`` on what the call returned (protocol call_backward)."""
    return protocol == PROTOCOL_CALL_BACKWARD and isinstance(returned, torch.Tensor) and returned.requires_grad
