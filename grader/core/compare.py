"""Compare a student's tensor with the reference's: torch.testing semantics, torch-style detail.

The verdict follows ``torch.testing.assert_close``: shape and dtype first
(broadcasting would hide a wrong shape:
``allclose(tensor([2.]), full((5,), 2.))`` is True), then
``torch.isclose`` with its per-dtype default tolerances — the very test
assert_close applies to the values of dense tensors. (assert_close itself
is not called: its first call imports sympy, ≈1.2 s measured, which would
double the cost of ``grader check``; tests/test_compare.py holds the two
verdicts equal.) Every differing element is kept, so feedback can say how
many differ, the greatest difference and where, and a few expected-vs-got
pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# torch.testing.assert_close's documented per-dtype defaults, stated explicitly so the
# tolerance a message quotes is exactly the one the verdict used.
_DEFAULT_TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex32: (1e-3, 1e-5),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
}
SAMPLE_COUNT = 3


@dataclass(frozen=True)
class Sample:
    """One differing element."""

    index: tuple[int, ...]
    expected: float
    actual: float


@dataclass(frozen=True)
class Mismatch:
    """Why two tensors are not close. ``kind`` is shape, dtype or values."""

    kind: str
    expected_shape: tuple[int, ...]
    actual_shape: tuple[int, ...]
    expected_dtype: str
    actual_dtype: str
    mismatched: int = 0
    total: int = 0
    max_abs_diff: float = 0.0
    max_abs_index: tuple[int, ...] = ()
    max_rel_diff: float = 0.0
    max_rel_index: tuple[int, ...] = ()
    rtol: float = 0.0
    atol: float = 0.0
    samples: tuple[Sample, ...] = ()


def tolerances(dtype: torch.dtype, rtol: float | None, atol: float | None) -> tuple[float, float]:
    """The (rtol, atol) used for ``dtype``: the configured pair, else torch.testing's default."""
    if rtol is not None and atol is not None:
        return rtol, atol
    return _DEFAULT_TOLERANCES.get(dtype, (0.0, 0.0))


def compare(actual: torch.Tensor, expected: torch.Tensor, rtol: float | None = None,
            atol: float | None = None) -> Mismatch | None:
    """None when ``actual`` is close to ``expected``; otherwise what differs."""
    base = {
        "expected_shape": tuple(expected.shape),
        "actual_shape": tuple(actual.shape),
        "expected_dtype": _dtype_name(expected.dtype),
        "actual_dtype": _dtype_name(actual.dtype),
    }
    if actual.shape != expected.shape:
        return Mismatch("shape", **base)
    if actual.dtype != expected.dtype:
        return Mismatch("dtype", **base)
    used_rtol, used_atol = tolerances(expected.dtype, rtol, atol)
    close = torch.isclose(actual.detach(), expected.detach(), rtol=used_rtol, atol=used_atol, equal_nan=False)
    if bool(close.all()):
        return None
    return _value_mismatch(actual, expected, close, used_rtol, used_atol, base)


def _value_mismatch(actual: torch.Tensor, expected: torch.Tensor, close: torch.Tensor, rtol: float, atol: float,
                    base: dict) -> Mismatch:
    actual64 = actual.detach().to(torch.float64)
    expected64 = expected.detach().to(torch.float64)
    bad = ~close
    abs_diff = (actual64 - expected64).abs()
    abs_diff = torch.where(torch.isnan(abs_diff), torch.full_like(abs_diff, float("inf")), abs_diff)
    rel_diff = abs_diff / expected64.abs()
    rel_diff = torch.where(torch.isnan(rel_diff), torch.full_like(rel_diff, float("inf")), rel_diff)
    masked_abs = torch.where(bad, abs_diff, torch.zeros_like(abs_diff))
    masked_rel = torch.where(bad, rel_diff, torch.zeros_like(rel_diff))
    bad_positions = bad.nonzero().tolist()[:SAMPLE_COUNT]
    samples = tuple(
        Sample(tuple(p), expected64[tuple(p)].item(), actual64[tuple(p)].item()) for p in bad_positions
    )
    abs_index = _unravel(int(masked_abs.argmax().item()), actual.shape) if actual.numel() else ()
    rel_index = _unravel(int(masked_rel.argmax().item()), actual.shape) if actual.numel() else ()
    # NaN was counted as inf above only to locate it; the reported size is nan, as torch.testing says
    # (a student told "inf" looks for an overflow, not a NaN; found by tests/test_compare.py).
    nan_at = torch.isnan(actual64) | torch.isnan(expected64)
    return Mismatch(
        "values",
        mismatched=int(bad.sum().item()),
        total=actual.numel(),
        max_abs_diff=_size(masked_abs, nan_at, abs_index) if actual.numel() else 0.0,
        max_abs_index=abs_index,
        max_rel_diff=_size(masked_rel, nan_at, rel_index) if actual.numel() else 0.0,
        max_rel_index=rel_index,
        rtol=rtol,
        atol=atol,
        samples=samples,
        **base,
    )


def is_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float | None = None,
             atol: float | None = None) -> bool:
    """The comparison's verdict as a bool (shape and dtype included)."""
    return compare(actual, expected, rtol, atol) is None


def _size(diffs: torch.Tensor, nan_at: torch.Tensor, index: tuple[int, ...]) -> float:
    return float("nan") if bool(nan_at[index]) else diffs[index].item()


def _unravel(flat: int, shape: torch.Size) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return tuple(reversed(index))


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
