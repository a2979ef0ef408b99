"""Named PolicyEngines (default name "policy"), built from model specs."""

from collections.abc import Iterator

from .errors import ValidationError
from .loading import DEFAULT_MODEL_NAME, ModelSpec, load_model
from .trainer import PolicyEngine


class ModelRegistry:
    """Maps model names to engines; the empty name means the default model."""

    def __init__(self, engines: dict[str, PolicyEngine]) -> None:
        if not engines:
            raise ValidationError("model registry: no models")
        self._engines = dict(engines)
        self.default_name = (
            DEFAULT_MODEL_NAME if DEFAULT_MODEL_NAME in engines else next(iter(engines))
        )

    @classmethod
    def from_specs(cls, specs: dict[str, ModelSpec]) -> "ModelRegistry":
        return cls({name: PolicyEngine(name, load_model(spec)) for name, spec in specs.items()})

    def get(self, name: str) -> PolicyEngine:
        engine = self._engines.get(name or self.default_name)
        if engine is None:
            raise ValidationError(f"model: unknown model {name!r} (known: {sorted(self._engines)})")
        return engine

    def __iter__(self) -> Iterator[PolicyEngine]:
        return iter(self._engines.values())
