"""llmcourse.testing: the one tolerance policy and the messages learners see."""

import pytest
import torch

from llmcourse.testing import PropertyFailure, assert_close, assert_finite, check, tolerance


def test_within_tolerance_passes_and_outside_fails():
    x = torch.randn(10, 10)
    rtol, atol = tolerance(torch.float32)
    assert_close(x * (1 + rtol / 10), x)
    with pytest.raises(PropertyFailure, match="outside the tolerance"):
        assert_close(x + 10 * (atol + rtol * x.abs().max()), x)


def test_shape_and_dtype_mismatches_are_named():
    with pytest.raises(PropertyFailure, match="shape"):
        assert_close(torch.zeros(2, 3), torch.zeros(3, 2), "weights")
    with pytest.raises(PropertyFailure, match="bool"):
        assert_close(torch.ones(2, 2), torch.ones(2, 2).bool())


def test_nan_must_match_exactly():
    a = torch.tensor([1.0, float("nan")])
    assert_close(a, a.clone())
    with pytest.raises(PropertyFailure, match="NaN"):
        assert_close(torch.tensor([1.0, 2.0]), a)


def test_message_does_not_reveal_expected_values():
    expected = torch.tensor([123.456, 789.012])
    with pytest.raises(PropertyFailure) as err:
        assert_close(torch.zeros(2), expected)
    assert "123.456" not in str(err.value) and "789" not in str(err.value)


def test_finite_and_check():
    assert_finite(torch.ones(3))
    with pytest.raises(PropertyFailure, match="non-finite"):
        assert_finite(torch.tensor([1.0, float("inf")]))
    with pytest.raises(PropertyFailure, match="boom"):
        check(False, "boom")


def test_float64_is_stricter_than_float32():
    assert tolerance(torch.float64)[0] < tolerance(torch.float32)[0]
