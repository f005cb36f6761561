"""Framework backends. Each module imports its framework and is loaded only in its worker; which
module serves which runtime, and the env it needs first, is in the registry (engine.runtimes)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import os
import sys
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engine.runtimes import RUNTIMES, runtime

if TYPE_CHECKING:
    from engine.backends.base import Backend

FRAMEWORKS: tuple[str, ...] = tuple(RUNTIMES)
# TwinTrain's own dependencies that ``import keras`` (and so ``import tensorflow``) loads only
# because they are installed: keras.wrappers imports scikit-learn, keras.visualization matplotlib.
# Neither framework depends on them; see ``framework_import``.
NOT_THE_FRAMEWORKS = frozenset({"sklearn", "matplotlib"})


class _Refused(importlib.abc.Loader):
    """Fails the import of a framework kept out of this worker (``keep_out``)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def create_module(self, spec: ModuleSpec) -> None:
        raise ModuleNotFoundError(self.message, name=spec.name)

    def exec_module(self, module: ModuleType) -> None:  # never reached: create_module raises
        raise ModuleNotFoundError(self.message, name=module.__name__)


class _KeepOut(importlib.abc.MetaPathFinder):
    """Packages refused in this process: found without a file (``origin`` None: a probe such as
    ``torch._dynamo``'s ``find_spec`` looks no further), refused when imported (Keras then treats
    the package as not installed). ``why`` names the reason, ``{name}`` the package."""

    def __init__(self, names: frozenset[str], why: str) -> None:
        self.names, self.why = names, why

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: Any = None
    ) -> ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top not in self.names:
            return None
        return ModuleSpec(fullname, _Refused(self.why.format(name=top)), origin=None)


class _Extras(_KeepOut):
    """``framework_import``'s finder, told apart from the worker's own by its type."""


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
    # One per worker. ``type() is``, not isinstance: a deployment child's load_backend runs
    # inside framework_import, whose finder (a subclass) refuses only TwinTrain's extras.
    if others and not any(type(f) is _KeepOut for f in sys.meta_path):
        why = (
            f"{{name}} is kept out of the {rt.label} worker (TwinTrain: each column's start-up and "
            "memory are its own framework's)"
        )
        sys.meta_path.insert(0, _KeepOut(others, why))


@contextlib.contextmanager
def framework_import() -> Iterator[None]:
    """While a framework is imported, TwinTrain's own extras (``NOT_THE_FRAMEWORKS``) read as not
    installed, as for a user who installed only the framework: Keras' optional imports of them
    skip, so a column's (and a deployment runtime's) import time and memory are the framework's
    (scikit-learn and matplotlib were 1.0-1.2 CPU-s and 65-90 MiB of every Keras worker's start
    here). Afterwards they import as usual (the data loaders' scikit-learn)."""
    names = NOT_THE_FRAMEWORKS - {name.partition(".")[0] for name in sys.modules}
    finder = _Extras(frozenset(names), "{name} is not imported while a framework loads")
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


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
    with framework_import():
        backend: type[Backend] = getattr(importlib.import_module(module), cls)
    return backend


def preload(framework: str) -> None:
    """Import a runtime and what its first model build or step would import lazily
    (``torch.optim.Optimizer`` pulls in torch._dynamo, about 1.4 s here), so that a worker's
    import time is all paid, and measured, in one place; a warm worker pays it before its job."""
    load_backend(framework)
    with framework_import():
        for module in runtime(framework).preload:
            importlib.import_module(module)
