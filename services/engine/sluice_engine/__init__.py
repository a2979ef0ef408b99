"""Sluice's PyTorch engine: sampling and training primitives served over gRPC."""

__all__ = ["__version__"]

__version__ = "0.1.0"
