"""Framework backends. Each module imports its framework and is loaded only in its worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.backends.base import Backend

FRAMEWORKS = ("torch", "tensorflow")


def load_backend(framework: str) -> type[Backend]:
    """The Backend class of a framework; imports that framework (call only in its worker).
    Typed ``type[Backend]``: mypy checks each backend class against the protocol here."""
    if framework == "torch":
        from engine.backends.torch_backend import TorchBackend

        return TorchBackend
    if framework == "tensorflow":
        from engine.backends.tf_backend import TFBackend

        return TFBackend
    raise ValueError(f"unknown framework '{framework}' (expected one of {', '.join(FRAMEWORKS)})")


def preload(framework: str) -> None:
    """Import a framework and what its first model build or step would import lazily
    (``torch.optim.Optimizer`` pulls in torch._dynamo, about 1.4 s here), so that a worker's
    import time is all paid, and measured, in one place; a warm worker pays it before its job."""
    load_backend(framework)
    if framework == "torch":
        import torch._dynamo  # noqa: F401
    else:
        import keras.optimizers  # noqa: F401
