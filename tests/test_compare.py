"""grader.core.compare: torch.testing's verdict, with shape and dtype checked first and every differing element kept."""

from __future__ import annotations

import math

import pytest
import torch

from grader.core.compare import SAMPLE_COUNT, compare, is_close, tolerances


def assert_close_says(actual: torch.Tensor, expected: torch.Tensor, **tolerance) -> bool:
    """The oracle: torch.testing.assert_close's own verdict."""
    try:
        torch.testing.assert_close(actual, expected, **tolerance)
    except AssertionError:
        return False
    return True


def test_close_tensors_have_no_mismatch():
    """Are tensors that differ by far less than the tolerance reported as close (None)?"""
    expected = torch.linspace(-3, 3, 11)
    assert compare(expected + 1e-7, expected) is None
    assert compare(expected.clone(), expected) is None


def test_shape_mismatch_even_when_broadcasting_would_agree():
    """Is tensor([2.]) against full((5,), 2.) a shape mismatch, although allclose broadcasts it to True?"""
    actual, expected = torch.tensor([2.0]), torch.full((5,), 2.0)
    assert torch.allclose(actual, expected)  # the trap this module exists to avoid
    mismatch = compare(actual, expected)
    assert mismatch is not None and mismatch.kind == "shape"
    assert mismatch.expected_shape == (5,) and mismatch.actual_shape == (1,)


def test_dtype_mismatch():
    """Is a float64 answer to a float32 question a dtype mismatch that names both dtypes?"""
    expected = torch.arange(4.0)
    mismatch = compare(expected.to(torch.float64), expected)
    assert mismatch is not None and mismatch.kind == "dtype"
    assert (mismatch.expected_dtype, mismatch.actual_dtype) == ("float32", "float64")


def test_value_mismatch_counts_locates_and_samples():
    """Does a value mismatch count the differing elements, find the greatest difference and where, and sample them?"""
    expected = torch.arange(12.0).reshape(3, 4)
    actual = expected.clone()
    actual[0, 1] += 0.5
    actual[2, 3] -= 4.0
    actual[1, 2] += 1.0
    mismatch = compare(actual, expected)
    assert mismatch is not None and mismatch.kind == "values"
    differs = ~torch.isclose(actual, expected)
    assert (mismatch.mismatched, mismatch.total) == (int(differs.sum()), expected.numel())
    diff = (actual - expected).abs()
    worst = torch.nonzero(diff == diff.max())[0].tolist()
    assert mismatch.max_abs_index == tuple(worst)
    assert mismatch.max_abs_diff == pytest.approx(diff.max().item())
    assert len(mismatch.samples) == min(SAMPLE_COUNT, int(differs.sum()))
    for sample in mismatch.samples:
        assert bool(differs[sample.index])
        assert sample.expected == expected[sample.index].item()
        assert sample.actual == actual[sample.index].item()


def test_samples_are_capped():
    """Are only SAMPLE_COUNT expected-vs-got pairs kept when many elements differ, while all are counted?"""
    expected = torch.zeros(50)
    mismatch = compare(torch.ones(50), expected)
    assert mismatch.mismatched == 50
    assert len(mismatch.samples) == SAMPLE_COUNT


@pytest.mark.parametrize("actual, expected", [
    (torch.tensor([float("nan"), 1.0]), torch.tensor([float("nan"), 1.0])),
    (torch.tensor([float("nan"), 1.0]), torch.tensor([1.0, 1.0])),
    (torch.tensor([1.0, 1.0]), torch.tensor([float("nan"), 1.0])),
], ids=["nan-vs-nan", "nan-got", "nan-expected"])
def test_nan_never_equals(actual, expected):
    """Is NaN never close to anything, not even NaN (assert_close with equal_nan off)?"""
    assert not assert_close_says(actual, expected)
    mismatch = compare(actual, expected)
    assert mismatch is not None and mismatch.kind == "values"
    assert mismatch.mismatched == 1
    assert mismatch.samples[0].index == (0,)


def test_nan_difference_is_reported_as_nan_where_it_is():
    """Is the greatest difference of a NaN answer reported as nan at the NaN's index, as torch.testing words it?"""
    actual, expected = torch.tensor([1.0, float("nan"), 5.0]), torch.tensor([1.0, 1.0, 1.0])
    with pytest.raises(AssertionError, match=r"Greatest absolute difference: nan at index \(1,\)"):
        torch.testing.assert_close(actual, expected)
    mismatch = compare(actual, expected)
    assert math.isnan(mismatch.max_abs_diff) and mismatch.max_abs_index == (1,)
    assert math.isnan(mismatch.max_rel_diff) and mismatch.max_rel_index == (1,)


def test_same_infinity_is_close_but_opposite_is_not():
    """Do equal infinities agree and opposite ones differ, as in assert_close?"""
    inf = float("inf")
    assert compare(torch.tensor([inf, 1.0]), torch.tensor([inf, 1.0])) is None
    assert compare(torch.tensor([-inf, 1.0]), torch.tensor([inf, 1.0])) is not None


def _borderline_cases():
    """Values around each dtype's default tolerance, plus a grid of magnitudes independent of it."""
    cases = []
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        rtol, atol = tolerances(dtype, None, None)
        for base in (0.0, 1.0, 250.0):
            allowed = atol + rtol * abs(base)
            for factor in (0.5, 0.9, 1.1, 2.0):
                cases.append((dtype, base, allowed * factor))
            for exponent in range(-9, 0):
                cases.append((dtype, base, 3.0 * 10.0 ** exponent))
    return cases


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64], ids=str)
def test_default_tolerances_agree_with_assert_close(dtype):
    """Does compare's default verdict match assert_close's on borderline values of each dtype?"""
    disagreements = []
    checked = {"close": 0, "not close": 0}
    for case_dtype, base, delta in _borderline_cases():
        if case_dtype is not dtype:
            continue
        expected = torch.tensor([base, -base], dtype=dtype)
        actual = torch.tensor([base + delta, -base - delta], dtype=dtype)
        oracle = assert_close_says(actual, expected)
        checked["close" if oracle else "not close"] += 1
        if is_close(actual, expected) != oracle:
            disagreements.append((base, delta, oracle))
    assert not disagreements, f"{dtype}: compare disagrees with assert_close on {disagreements}"
    assert checked["close"] and checked["not close"], "the borderline values must straddle the tolerance"


def test_configured_tolerances_are_used():
    """Do configured rtol/atol decide the verdict, and does the mismatch quote them?"""
    expected = torch.tensor([100.0, 200.0])
    actual = expected * 1.05
    assert not assert_close_says(actual, expected)
    assert compare(actual, expected) is not None
    assert compare(actual, expected, rtol=0.1, atol=0.0) is None
    assert assert_close_says(actual, expected, rtol=0.1, atol=0.0)
    mismatch = compare(actual, expected, rtol=0.01, atol=0.5)
    assert mismatch is not None
    assert (mismatch.rtol, mismatch.atol) == (0.01, 0.5)


@pytest.mark.parametrize("actual, expected", [
    (torch.tensor([float("inf"), 1.0]), torch.tensor([float("inf"), 1.0])),
    (torch.tensor([float("inf")]), torch.tensor([float("-inf")])),
    (torch.tensor([float("nan")]), torch.tensor([float("nan")])),
    (torch.tensor([1.0, float("nan")]), torch.tensor([1.0, 2.0])),
    (torch.tensor([1, 2, 3]), torch.tensor([1, 2, 3])),
    (torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4])),
    (torch.tensor([True, False]), torch.tensor([True, False])),
    (torch.tensor([True, False]), torch.tensor([True, True])),
    (torch.tensor(3.0), torch.tensor(3.0 + 1e-6)),
    (torch.zeros(0), torch.zeros(0)),
], ids=["inf", "opposite-inf", "nan", "nan-vs-number", "int-equal", "int-differ", "bool-equal", "bool-differ",
        "0-dim", "empty"])
def test_verdict_agrees_with_assert_close_on_special_values(actual, expected):
    """Do non-finite, integer, boolean, 0-dim and empty tensors get assert_close's own verdict?"""
    assert is_close(actual, expected) == assert_close_says(actual, expected)
