"""Keras models, ``.keras`` files and the Keras runtimes' eager baselines: called as
``model(x, training=False)`` under the Keras backend that saved the file (``KERAS_BACKEND`` is
set before Keras is imported), the output read back with ``keras.ops.convert_to_numpy``."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np

from engine.deploy.runners import base
from engine.deploy.runners.base import RunnerBase


def set_keras_backend(backend: str) -> None:
    """The Keras backend and its set-up, before keras is imported (a process holds one)."""
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if backend == "jax":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        if "--xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
            os.environ["XLA_FLAGS"] = (
                os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
            ).strip()


def keras_imports(backend: str, threads: int) -> dict[str, str]:
    """Keras on ``backend``, whose package has the backend's name (its version is reported too),
    with that framework's threads set (engine.deploy.runners.base: ``<backend>_threads``)."""
    import importlib

    set_keras_backend(backend)
    module = importlib.import_module(backend)
    import keras

    getattr(base, f"{backend}_threads")(threads)
    return {"keras": str(keras.__version__), backend: str(module.__version__)}


class KerasRunner(RunnerBase):
    """A Keras model called eagerly; subclasses say where the model comes from."""

    model: Any

    def backend(self) -> str:
        return str(self.job["keras_backend"])

    def imports(self) -> dict[str, str]:
        return keras_imports(self.backend(), self.threads)

    def prepare(self, x: np.ndarray) -> Any:
        import keras

        return keras.ops.convert_to_tensor(np.ascontiguousarray(x, dtype=np.float32))

    def infer(self, prepared: Any) -> np.ndarray:
        import keras

        with self._no_grad():
            out = self.model(prepared, training=False)
            return np.asarray(keras.ops.convert_to_numpy(out))

    def _no_grad(self) -> contextlib.AbstractContextManager[Any]:
        import keras

        if keras.backend.backend() == base.TORCH:  # no autograd graph kept, as predict does
            import torch

            return torch.inference_mode()
        return contextlib.nullcontext()


class KerasFileRunner(KerasRunner):
    def load(self) -> None:
        import keras

        self.model = keras.models.load_model(str(self.file()), safe_mode=True, compile=False)
