"""Imports the generated gRPC stubs.

grpcio-tools emits absolute imports ("from sluice.v1 import engine_pb2"), so the generated
tree's root (sluice_engine/gen) must be on sys.path. Importing the stubs only through the
"sluice.v1" name keeps each proto file registered once in the descriptor pool.
"""

import sys
from pathlib import Path

GEN_DIR = Path(__file__).resolve().parent / "gen"


def _ensure_gen_on_path() -> None:
    if not (GEN_DIR / "sluice" / "v1" / "engine_pb2.py").is_file():
        raise ImportError(
            f"generated stubs missing under {GEN_DIR}; run `node scripts/gen-proto.mjs`"
        )
    gen = str(GEN_DIR)
    if gen not in sys.path:
        sys.path.insert(0, gen)


_ensure_gen_on_path()

from sluice.v1 import (  # noqa: E402
    engine_pb2,
    engine_pb2_grpc,
    reward_model_pb2,
    reward_model_pb2_grpc,
)

__all__ = [
    "engine_pb2",
    "engine_pb2_grpc",
    "reward_model_pb2",
    "reward_model_pb2_grpc",
    "GEN_DIR",
]
