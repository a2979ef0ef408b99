"""Packed little-endian bytes <-> tensors: int32 ids/versions, float32 values, uint8 masks."""

import numpy as np
import torch

from .errors import ValidationError

_I32 = np.dtype("<i4")
_F32 = np.dtype("<f4")
_U8 = np.dtype("u1")


def _frombuffer(data: bytes, dtype: np.dtype, field: str) -> np.ndarray:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValidationError(f"{field}: expected bytes, got {type(data).__name__}")
    if len(data) % dtype.itemsize != 0:
        raise ValidationError(
            f"{field}: byte length {len(data)} is not a multiple of {dtype.itemsize}"
        )
    return np.frombuffer(data, dtype=dtype)


def unpack_int32(data: bytes, field: str = "int32 array") -> list[int]:
    """Packed int32 LE -> list of ints."""
    return _frombuffer(data, _I32, field).astype(np.int64).tolist()


def unpack_int32_tensor(data: bytes, field: str = "int32 array") -> torch.Tensor:
    """Packed int32 LE -> int64 tensor (torch's index dtype)."""
    return torch.from_numpy(_frombuffer(data, _I32, field).astype(np.int64))


def unpack_float32(data: bytes, field: str = "float32 array") -> torch.Tensor:
    """Packed float32 LE -> float32 tensor; rejects NaN and infinities."""
    arr = _frombuffer(data, _F32, field).astype(np.float32)
    if not np.isfinite(arr).all():
        raise ValidationError(f"{field}: contains NaN or infinite values")
    return torch.from_numpy(arr)


def unpack_uint8(data: bytes, field: str = "uint8 array") -> torch.Tensor:
    """Packed uint8 -> bool tensor (nonzero = true)."""
    return torch.from_numpy(_frombuffer(data, _U8, field).copy()) != 0


def pack_int32(values: list[int] | torch.Tensor | np.ndarray) -> bytes:
    """Ints -> packed int32 LE."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=_I32).tobytes()


def pack_float32(values: list[float] | torch.Tensor | np.ndarray) -> bytes:
    """Floats -> packed float32 LE."""
    if isinstance(values, torch.Tensor):
        values = values.detach().float().cpu().numpy()
    return np.asarray(values, dtype=_F32).tobytes()


def pack_uint8(values: list[int] | list[bool] | torch.Tensor | np.ndarray) -> bytes:
    """Bools/ints -> packed uint8."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=_U8).tobytes()
