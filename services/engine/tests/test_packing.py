import struct

import pytest
import torch

from sluice_engine.errors import ValidationError
from sluice_engine.packing import (
    pack_float32,
    pack_int32,
    pack_uint8,
    unpack_float32,
    unpack_int32,
    unpack_int32_tensor,
    unpack_uint8,
)


def test_int32_roundtrip_little_endian() -> None:
    data = pack_int32([1, -2, 300000])
    assert data == struct.pack("<3i", 1, -2, 300000)
    assert unpack_int32(data) == [1, -2, 300000]
    assert unpack_int32_tensor(data).dtype == torch.int64


def test_float32_and_uint8_roundtrip() -> None:
    data = pack_float32(torch.tensor([0.5, -1.25]))
    assert data == struct.pack("<2f", 0.5, -1.25)
    assert unpack_float32(data).tolist() == [0.5, -1.25]
    assert unpack_uint8(pack_uint8([1, 0, 2])).tolist() == [True, False, True]
    assert unpack_int32(b"") == []


@pytest.mark.parametrize("fn", [unpack_int32, unpack_float32])
def test_bad_length_raises_typed_error(fn: object) -> None:
    with pytest.raises(ValidationError, match="advantages: byte length 5"):
        fn(b"\x00" * 5, "advantages")  # type: ignore[operator]


def test_non_finite_rejected() -> None:
    with pytest.raises(ValidationError, match="NaN"):
        unpack_float32(struct.pack("<f", float("nan")), "old_logprobs")
