"""The value encoding used across the grading seam.

Values cross between the sandbox (student code) and the judge (hidden tests)
as JSON text: never pickle, so decoding what a sandbox sends can build nothing
but plain data. Supported values:

* ``None``, ``bool``, ``int``, ``float`` (including nan and +-inf), ``str``;
* ``list``, ``tuple``, ``dict`` with string keys (nested);
* numpy arrays and torch tensors of real or bool dtypes (raw bytes in base64,
  with dtype, shape and, for tensors, ``requires_grad``);
* numpy scalars (as Python numbers);
* handles: a reference to an object that stays on the other side.

What it does not handle: complex dtypes, sparse or quantized tensors, object
arrays, dicts with non-string keys, recursive structures (a depth limit stops
them). Encoding anything else raises :class:`SeamError` on the sending side,
unless the caller passes ``make_handle`` to turn it into a handle.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any, Callable

import numpy as np

MAX_DEPTH = 64

# Only these dtypes may cross; the judge builds arrays from this table and
# nothing else, so a sandbox cannot ask it to instantiate arbitrary types.
_NUMPY_DTYPES = {
    "bool": np.bool_,
    "uint8": np.uint8,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
}


class SeamError(TypeError):
    """A value cannot cross the seam, or an encoded message is malformed."""


def _torch():
    import torch  # imported lazily: the codec works without torch loaded

    return torch


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _array_payload(arr: np.ndarray) -> dict:
    name = arr.dtype.name
    if name not in _NUMPY_DTYPES:
        raise SeamError(f"arrays of dtype {name} cannot cross the seam")
    data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
    return {
        "dtype": name,
        "shape": list(arr.shape),
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def to_wire(value: Any, make_handle: Callable[[Any], int] | None = None, _depth: int = 0) -> Any:
    """Turn ``value`` into JSON-ready data (see the module docstring)."""
    if _depth > MAX_DEPTH:
        raise SeamError("value is nested too deeply to cross the seam")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else {"$bigint": str(value)}
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, np.generic) and not isinstance(value, np.ndarray):
        return to_wire(value.item(), make_handle, _depth + 1)
    if isinstance(value, np.ndarray):
        return {"$ndarray": _array_payload(value)}
    torch = _torch() if "torch" in type(value).__module__ else None
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_sparse or value.is_quantized or value.is_complex():
            raise SeamError("sparse, quantized and complex tensors cannot cross the seam")
        t = value.detach().cpu()
        if t.dtype == torch.bfloat16:
            payload = _array_payload(t.to(torch.float32).numpy())
            payload["torch_dtype"] = "bfloat16"
        else:
            payload = _array_payload(t.contiguous().numpy())
        payload["requires_grad"] = bool(value.requires_grad)
        return {"$tensor": payload}
    if isinstance(value, (list, tuple)):
        items = [to_wire(v, make_handle, _depth + 1) for v in value]
        return items if isinstance(value, list) else {"$tuple": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise SeamError("only dicts with string keys can cross the seam")
        return {"$dict": {k: to_wire(v, make_handle, _depth + 1) for k, v in value.items()}}
    if make_handle is not None:
        return {"$handle": make_handle(value), "type": type(value).__name__}
    if hasattr(value, "__seam_handle__"):
        return {"$handle": int(value.__seam_handle__), "type": "handle"}
    raise SeamError(f"a {type(value).__name__} cannot cross the seam by value")


def _array_from(payload: dict) -> np.ndarray:
    try:
        dtype = np.dtype(_NUMPY_DTYPES[payload["dtype"]]).newbyteorder("<")
        shape = tuple(int(s) for s in payload["shape"])
        raw = base64.b64decode(payload["data"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise SeamError(f"malformed array on the seam: {exc}") from None
    if any(s < 0 for s in shape) or len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise SeamError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def from_wire(data: Any, resolve_handle: Callable[[int], Any], _depth: int = 0) -> Any:
    """Rebuild a value from :func:`to_wire` output; handles go to ``resolve_handle``."""
    if _depth > MAX_DEPTH:
        raise SeamError("message nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_wire(v, resolve_handle, _depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise SeamError("malformed value on the seam")
    if "$float" in data:
        return float(data["$float"])
    if "$bigint" in data:
        return int(data["$bigint"])
    if "$tuple" in data:
        return tuple(from_wire(v, resolve_handle, _depth + 1) for v in data["$tuple"])
    if "$dict" in data:
        return {str(k): from_wire(v, resolve_handle, _depth + 1) for k, v in data["$dict"].items()}
    if "$ndarray" in data:
        return _array_from(data["$ndarray"])
    if "$tensor" in data:
        torch = _torch()
        payload = data["$tensor"]
        t = torch.from_numpy(_array_from(payload).copy())
        if payload.get("torch_dtype") == "bfloat16":
            t = t.to(torch.bfloat16)
        if payload.get("requires_grad") and t.dtype.is_floating_point:
            t.requires_grad_(True)
        return t
    if "$handle" in data:
        return resolve_handle(int(data["$handle"]))
    raise SeamError("malformed value on the seam")


def dumps(message: dict) -> bytes:
    """Serialise one protocol message (already wire-encoded) to bytes."""
    return json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")


def loads(raw: bytes) -> dict:
    """Parse one protocol message; refuse anything that is not a JSON object."""
    try:
        message = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SeamError(f"malformed message on the seam: {exc}") from None
    if not isinstance(message, dict):
        raise SeamError("malformed message on the seam")
    return message
