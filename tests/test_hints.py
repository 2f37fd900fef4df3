"""Do the scaled hints (k × the right answer) name a factor only where a factor is the mistake's signature?"""

from __future__ import annotations

import torch

from grader.core.hints import recognise

X = torch.arange(1.0, 5.0)


def test_a_constant_factor_on_a_vector_is_named():
    found = recognise(("scaled_gradient",), "grad", 3 * (2 * X), 2 * X, X)
    assert found is not None and found.key == "hint.scaled_gradient" and found.values["k"] == 3


def test_zero_times_the_answer_is_not_a_factor():
    """y[0].backward() on the book's x (x[0] = 0) leaves x.grad all zeros: that is no gradient, not '0 times'."""
    assert recognise(("scaled_gradient",), "grad", torch.zeros(4), 2 * X, X) is None


def test_one_element_counts_only_a_whole_factor_or_its_inverse():
    """One number is a multiple of anything: 59.2134× is chance, 2× or ½ the signature of a mistake."""
    one = torch.tensor([1.7])
    assert recognise(("fixed_iterations",), "returned", one * 59.2134, one, one) is None
    assert recognise(("fixed_iterations",), "returned", one * 2, one, one) is not None
    assert recognise(("fixed_iterations",), "returned", one * 0.5, one, one) is not None
