"""Named reward models of one engine process."""

import threading

from .errors import NotFoundError, PreconditionError, ValidationError
from .reward_model import RewardModel, RewardModelConfig

MAX_REWARD_MODELS = 64
MAX_NAME_CHARS = 128


def check_name(name: str) -> str:
    if not name:
        raise ValidationError("name: required")
    if len(name) > MAX_NAME_CHARS:
        raise ValidationError(f"name: longer than {MAX_NAME_CHARS} characters")
    return name


class RewardModelRegistry:
    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self._models: dict[str, RewardModel] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> RewardModel:
        check_name(name)
        with self._lock:
            model = self._models.get(name)
        if model is None:
            raise NotFoundError(f"name: no reward model {name!r} (known: {sorted(self._models)})")
        return model

    def create(
        self, name: str, config: RewardModelConfig, load_path: str = "", replace: bool = False
    ) -> tuple[RewardModel, bool]:
        """Returns (model, created). An existing model of the same kind is returned unless
        `replace`; one of another kind is refused."""
        check_name(name)
        with self._lock:
            existing = self._models.get(name)
            if existing is not None and not replace:
                if existing.kind is not config.kind:
                    raise PreconditionError(
                        f"name: reward model {name!r} exists as {existing.kind.value}, "
                        f"not {config.kind.value} (set replace to recreate it)"
                    )
                return existing, False
            if existing is None and len(self._models) >= MAX_REWARD_MODELS:
                raise PreconditionError(f"name: at most {MAX_REWARD_MODELS} reward models")
        # Building takes a while; do it outside the registry lock.
        if load_path:
            model = RewardModel.from_saved(name, load_path, self.device)
            if model.kind is not config.kind:
                raise PreconditionError(
                    f"load_path: {load_path!r} holds a {model.kind.value} model, "
                    f"not {config.kind.value}"
                )
        else:
            model = RewardModel(name, config)
        with self._lock:
            self._models[name] = model
        return model, True

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._models)
