"""Chooses the torch device and dtype the engine runs on."""

import torch

from .errors import ValidationError


def resolve_device(name: str = "auto") -> torch.device:
    """Maps "auto" | "cpu" | "cuda" | "cuda:N" to a torch device (auto: CUDA when available)."""
    if name in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValidationError(f"device {name!r} requested but CUDA is not available")
        return torch.device(name)
    raise ValidationError(f"unknown device {name!r} (expected auto, cpu or cuda)")


_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(name: str = "float32") -> torch.dtype:
    """Parameter dtype; float32 by default (the optimizer keeps full-precision weights)."""
    if name in ("", "auto"):
        return torch.float32
    if name not in _DTYPES:
        raise ValidationError(f"unknown dtype {name!r} (expected one of {sorted(_DTYPES)})")
    return _DTYPES[name]
