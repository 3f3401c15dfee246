"""Numerical checks shared by the exercise notebooks and the hidden suites.

This module is the course's one tolerance policy: how close two floating-point
results must be, per dtype, to count as equal. Public checks in the notebooks
and the hidden tests both call :func:`assert_close`, so a learner never passes
one and fails the other because of a different tolerance.

Failures raise :class:`PropertyFailure`, an ``AssertionError`` whose message
names the property that failed and where (relative error, its index), never
the expected values themselves: the grader shows these messages to learners.

Not handled: complex dtypes, sparse tensors, comparisons across devices.
"""

from __future__ import annotations

import math

import numpy as np
import torch

# (rtol, atol) per dtype. float32 allows for a different but correct order of
# operations (einsum vs matmul, fused vs unfused softmax) over ~1e3 terms.
TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (1.6e-2, 1e-2),
    torch.float32: (1e-4, 1e-5),
    torch.float64: (1e-9, 1e-11),
}


class PropertyFailure(AssertionError):
    """A check failed; the message is safe to show to a learner."""


def tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """Return ``(rtol, atol)`` for ``dtype``; exact (0, 0) for integer and bool."""
    if dtype in TOLERANCES:
        return TOLERANCES[dtype]
    if dtype.is_floating_point or dtype.is_complex:
        raise ValueError(f"no tolerance policy for {dtype}")
    return (0.0, 0.0)


def _as_tensor(value, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, (int, float, bool, list, tuple)):
        return torch.as_tensor(value)
    raise PropertyFailure(f"{name} should be a tensor, got {type(value).__name__}")


def check(condition: bool, message: str) -> None:
    """Raise :class:`PropertyFailure` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise PropertyFailure(message)


def assert_close(actual, expected, what: str = "result") -> None:
    """Check shape, dtype class and values of ``actual`` against ``expected``.

    The tolerance is the policy entry for the coarser of the two dtypes.
    NaN equals NaN only where both sides have it. The failure message reports
    the shape or the largest error and its index, not the expected numbers.
    """
    a = _as_tensor(actual, what)
    e = _as_tensor(expected, "expected")
    check(
        tuple(a.shape) == tuple(e.shape),
        f"{what} has shape {tuple(a.shape)}, which is not the expected shape",
    )
    if e.dtype == torch.bool:
        check(a.dtype == torch.bool, f"{what} should be a bool tensor, got {a.dtype}")
        wrong = (a != e).nonzero()
        check(
            len(wrong) == 0,
            f"{what} differs in {len(wrong)} of {e.numel()} entries "
            f"(first at index {tuple(wrong[0].tolist()) if len(wrong) else ()})",
        )
        return
    check(
        a.dtype.is_floating_point == e.dtype.is_floating_point,
        f"{what} has dtype {a.dtype}, expected a "
        f"{'floating-point' if e.dtype.is_floating_point else 'integer'} dtype",
    )
    coarse = a.dtype if tolerance(a.dtype)[0] >= tolerance(e.dtype)[0] else e.dtype
    rtol, atol = tolerance(coarse)
    a64, e64 = a.to(torch.float64), e.to(torch.float64)
    nan_a, nan_e = torch.isnan(a64), torch.isnan(e64)
    bad_nan = nan_a ^ nan_e
    if bad_nan.any():
        where = tuple(bad_nan.nonzero()[0].tolist())
        side = "contains NaN" if nan_a[where] else "is missing a NaN"
        raise PropertyFailure(f"{what} {side} at index {where}")
    a64 = torch.where(nan_a, 0.0, a64)
    e64 = torch.where(nan_e, 0.0, e64)
    both_inf = torch.isinf(a64) & (a64 == e64)
    err = torch.where(both_inf, 0.0, (a64 - e64).abs())
    allowed = atol + rtol * torch.where(both_inf, 0.0, e64.abs())
    over = err > allowed
    if over.any() or torch.isnan(err).any():
        # Error relative to the expected size: says how wrong, never what was expected.
        relative = err / (e64.abs() + atol)
        idx = torch.argmax(torch.where(torch.isnan(err), math.inf, relative))
        where = tuple(int(i) for i in np.unravel_index(int(idx), tuple(err.shape)))
        raise PropertyFailure(
            f"{what} is off: {int(over.sum())} of {err.numel()} entries are outside the "
            f"tolerance for {coarse} (rtol={rtol:g}, atol={atol:g}); the worst, at index "
            f"{where}, is off by {relative.flatten()[idx].item():.1e} times its expected size"
        )


def assert_finite(value, what: str = "result") -> None:
    """Check that every entry of ``value`` is finite (no inf, no NaN)."""
    t = _as_tensor(value, what)
    bad = ~torch.isfinite(t.to(torch.float64))
    if bad.any():
        where = tuple(bad.nonzero()[0].tolist())
        raise PropertyFailure(
            f"{what} has {int(bad.sum())} non-finite entries (first at index {where})"
        )
