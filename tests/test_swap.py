"""Does the swap run change autograd's derivative of the named graph nodes, and only while it is on?"""

from __future__ import annotations

import math

import numpy
import pytest
import torch

from grader.runner.swap import Swap, factor

X = torch.linspace(0.0, 2 * math.pi, 50)
SEED = 424242


def honest(x):
    x.requires_grad_(True)
    torch.sin(x).sum().backward()
    return x.grad


def by_autograd_grad(x):
    x = x.clone().requires_grad_(True)
    return torch.autograd.grad(torch.sin(x).sum(), x)[0]


def by_func_grad(x):
    return torch.vmap(torch.func.grad(torch.sin))(x)


def do_nothing_backward_then_write(x):
    """A red-team cheat: autograd runs through sin (times 0), the cosine is written into x.grad's memory."""
    x.requires_grad_(True)
    (torch.sin(x) * 0).sum().backward()
    x.grad.numpy()[:] = numpy.cos(x.detach().numpy())
    return x.grad


@pytest.mark.parametrize("route", [honest, by_autograd_grad, by_func_grad])
def test_a_gradient_autograd_computed_follows_the_swap(route):
    with Swap(("SinBackward0",), SEED):
        got = route(X.clone())
    assert torch.allclose(got, factor(SEED) * torch.cos(X), atol=1e-6)


def test_a_cosine_fed_in_another_way_does_not():
    with Swap(("SinBackward0",), SEED):
        got = do_nothing_backward_then_write(X.clone())
    assert torch.allclose(got, torch.cos(X), atol=1e-6)
    assert not torch.allclose(got, factor(SEED) * torch.cos(X), atol=1e-3)


def test_other_nodes_and_the_world_after_the_swap_are_untouched():
    original = torch.autograd._engine_run_backward
    with Swap(("SinBackward0",), SEED):
        x = X.clone().requires_grad_(True)
        (x * x).sum().backward()  # no SinBackward0 in this graph
        assert torch.allclose(x.grad, 2 * X)
    assert torch.autograd._engine_run_backward is original
    assert torch.allclose(honest(X.clone()), torch.cos(X), atol=1e-6)  # hooks removed, engine restored


def test_the_factor_is_never_near_one_and_depends_on_the_seed():
    factors = {factor(seed) for seed in range(1, 2000)}
    assert all(0.5 <= k <= 0.9 or 1.1 <= k <= 1.5 for k in factors)
    assert len(factors) > 100
