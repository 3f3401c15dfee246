"""The seam's value encoding: round trips, refusals, and malformed input."""

import math

import numpy as np
import pytest
import torch

from autograder.seam import codec


def roundtrip(value):
    return codec.from_wire(codec.loads(codec.dumps({"v": codec.to_wire(value)}))["v"], lambda h: ("handle", h))


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, None, True, "x", (3, 4)], "b": {"c": 2**70}, "d": -0.0}
    assert roundtrip(value) == value
    assert math.isnan(roundtrip(float("nan"))) and roundtrip(float("-inf")) == float("-inf")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.bool, torch.uint8])
def test_tensors_roundtrip_exactly(dtype):
    t = (torch.randn(2, 3, 4) * 100).to(dtype)
    back = roundtrip(t)
    assert back.dtype == dtype and back.shape == t.shape and torch.equal(back, t)


def test_non_contiguous_tensor_and_requires_grad():
    t = torch.randn(4, 5, dtype=torch.float64).T.requires_grad_(True)
    back = roundtrip(t)
    assert torch.equal(back, t.detach()) and back.requires_grad


def test_numpy_arrays_and_scalars():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert np.array_equal(roundtrip(a), a) and roundtrip(a).dtype == np.int32
    assert roundtrip(np.float32(1.5)) == 1.5


def test_unencodable_objects_become_handles_only_when_allowed():
    with pytest.raises(codec.SeamError):
        codec.to_wire(object())
    wire = codec.to_wire(object(), make_handle=lambda obj: 7)
    assert codec.from_wire(wire, lambda h: ("handle", h)) == ("handle", 7)


@pytest.mark.parametrize(
    "message",
    [
        b"not json",
        b"[1, 2]",
        b'{"v": {"$ndarray": {"dtype": "object", "shape": [1], "data": ""}}}',
        b'{"v": {"$ndarray": {"dtype": "float32", "shape": [3], "data": "AAAA"}}}',
        b'{"v": {"$pickle": "gASV"}}',
        b'{"v": {}}',
    ],
)
def test_malformed_messages_are_refused(message):
    with pytest.raises(codec.SeamError):
        codec.from_wire(codec.loads(message)["v"], lambda h: h)


def test_complex_tensors_are_refused():
    with pytest.raises(codec.SeamError):
        codec.to_wire(torch.randn(2, dtype=torch.complex64))
