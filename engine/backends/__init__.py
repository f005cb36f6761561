"""Framework backends. Each module imports its framework and is loaded only in its worker; which
module serves which runtime, and the env it needs first, is in the registry (engine.runtimes)."""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engine.runtimes import RUNTIMES, runtime

if TYPE_CHECKING:
    from engine.backends.base import Backend

FRAMEWORKS: tuple[str, ...] = tuple(RUNTIMES)


class _Refused(importlib.abc.Loader):
    """Fails the import of a framework kept out of this worker (``keep_out``)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def create_module(self, spec: ModuleSpec) -> None:
        raise ModuleNotFoundError(self.message, name=spec.name)

    def exec_module(self, module: ModuleType) -> None:  # never reached: create_module raises
        raise ModuleNotFoundError(self.message, name=module.__name__)


class _KeepOut(importlib.abc.MetaPathFinder):
    """Other runtimes' frameworks in a worker: found without a file (``origin`` None: a probe
    such as ``torch._dynamo``'s ``find_spec`` looks no further), refused when imported (Keras
    then treats the framework as not installed)."""

    def __init__(self, label: str, names: frozenset[str]) -> None:
        self.label, self.names = label, names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: Any = None
    ) -> ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top not in self.names:
            return None
        message = (
            f"{top} is kept out of the {self.label} worker (TwinTrain: each column's start-up "
            "and memory are its own framework's)"
        )
        return ModuleSpec(fullname, _Refused(message), origin=None)


def keep_out(framework: str) -> None:
    """Keep the other runtimes' frameworks out of this worker for its life.

    Keras imports every framework it finds installed: JAX at ``import keras`` on any backend,
    TensorFlow when it seeds or saves. A user of Keras on PyTorch without JAX never pays that, but
    TwinTrain's own machine has every runtime installed, so a column's start-up and peak memory
    would depend on which other columns exist (Keras on JAX carried all of TensorFlow: 860 MiB
    instead of 445). Keras treats a refused import as the framework not being installed."""
    rt = runtime(framework)
    others = frozenset(r.framework for r in RUNTIMES.values()) - {rt.framework}
    others -= {name for name in others if name in sys.modules}  # already in: nothing to keep out
    if others and not any(isinstance(f, _KeepOut) for f in sys.meta_path):
        sys.meta_path.insert(0, _KeepOut(rt.label, others))


def load_backend(framework: str) -> type[Backend]:
    """The Backend class of a runtime; sets its env, keeps the other frameworks out
    (``keep_out``) and imports its framework (call only in its worker: a process holds one Keras
    backend). Typed ``type[Backend]``: mypy checks each backend class against the protocol
    here."""
    rt = runtime(framework)
    keep_out(framework)
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
