"""Framework backends. Each module imports its framework and is loaded only in its worker; which
module serves which runtime, and the env it needs first, is in the registry (engine.runtimes)."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

from engine.runtimes import RUNTIMES, runtime

if TYPE_CHECKING:
    from engine.backends.base import Backend

FRAMEWORKS: tuple[str, ...] = tuple(RUNTIMES)


def load_backend(framework: str) -> type[Backend]:
    """The Backend class of a runtime; sets its env and imports its framework (call only in its
    worker: a process holds one Keras backend). Typed ``type[Backend]``: mypy checks each
    backend class against the protocol here."""
    rt = runtime(framework)
    for key, value in rt.env.items():
        if key == "KERAS_BACKEND":
            os.environ[key] = value  # the runtime's, whatever the user's default
        else:
            os.environ.setdefault(key, value)
    module, _, cls = rt.backend.partition(":")
    backend: type[Backend] = getattr(importlib.import_module(module), cls)
    return backend


def preload(framework: str) -> None:
    """Import a runtime and what its first model build or step would import lazily
    (``torch.optim.Optimizer`` pulls in torch._dynamo, about 1.4 s here), so that a worker's
    import time is all paid, and measured, in one place; a warm worker pays it before its job."""
    load_backend(framework)
    for module in runtime(framework).preload:
        importlib.import_module(module)
