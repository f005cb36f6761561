"""What every runner has: the job it was given, the thread count, and the three steps the
child times apart (import, load, inference)."""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path
from typing import Any

import numpy as np


class RunnerBase:
    """One file (or the eager model) in one runtime.

    The child calls ``imports()`` (the runtime's import, timed as ``import_s``; an ImportError
    makes the row ``skipped``), ``load()`` (timed as ``load_s``; a runner sets ``session_s`` to
    the part of it spent creating a session or interpreter), then per batch ``prepare(x)``
    (untimed: the input converted to what the runtime takes) and ``infer(prepared)`` (timed:
    one inference, the output read back as a numpy array)."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.threads = int(job.get("threads") or 1)
        self.path = Path(job["path"]) if job.get("path") else None
        self.session_s: float | None = None

    def imports(self) -> dict[str, str]:
        """Import the runtime; {name: version} of what was imported."""
        raise NotImplementedError

    def load(self) -> None:
        raise NotImplementedError

    def prepare(self, x: np.ndarray) -> Any:
        raise NotImplementedError

    def infer(self, prepared: Any) -> np.ndarray:
        raise NotImplementedError

    def file(self) -> Path:
        if self.path is None:
            raise RuntimeError("this runner needs a file and none was given")
        return self.path


def version_of(module: str) -> str:
    """A module's ``__version__`` (imported here if it is not yet)."""
    mod = importlib.import_module(module)
    return str(getattr(mod, "__version__", "unknown"))


# The Keras backend whose calls need torch's inference mode (engine.deploy.runners.keras_files).
TORCH = "torch"


def torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != threads:
        with contextlib.suppress(RuntimeError):  # once per process, before any inter-op work
            torch.set_num_interop_threads(threads)


def tensorflow_threads(threads: int) -> None:
    import tensorflow as tf

    t = tf.config.threading
    for get, put in (
        (t.get_intra_op_parallelism_threads, t.set_intra_op_parallelism_threads),
        (t.get_inter_op_parallelism_threads, t.set_inter_op_parallelism_threads),
    ):
        if get() != threads:
            with contextlib.suppress(RuntimeError):  # TensorFlow already made its pools
                put(threads)


def jax_threads(threads: int) -> None:
    """No XLA flag holds JAX's CPU client to N threads (engine/backends/keras_jax_backend.py):
    the child's CPU affinity does, set before the import."""
