"""The baseline: the trained model in its own framework, built from the project through the
engine's backends (engine.backends) with the run's ``weights/<column>.npz`` (or, for an export
made from the matched initial weights, those), called eagerly in inference mode."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.deploy.runners.base import RunnerBase
from engine.deploy.runners.keras_files import KerasRunner
from engine.deploy.runners.torch_files import TorchRunner


def build_backend(job: dict[str, Any]) -> Any:
    """The column's backend in its runtime's default mode, built with the baseline's weights."""
    from pathlib import Path

    from engine.backends import load_backend
    from engine.runtimes import runtime
    from engine.spec import from_dict, validate
    from engine.spec.training import resolve_training

    rt = runtime(job["framework"])
    project = from_dict(job["project"])
    if job.get("project_path"):
        project.path = Path(job["project_path"])
    graph = validate(project)
    if job.get("weights"):
        from engine.trained_weights import load_weights

        weights = load_weights(job["weights"])
    else:
        from engine.weights import init_weights

        training = resolve_training(project.training, graph.dataset.task if graph.dataset else None)
        weights = init_weights(project, graph, training["seed"])
    cls = load_backend(rt.id)
    backend = cls(project, device="cpu", threads=int(job.get("threads") or 1), mode=rt.default_mode)
    backend.build(weights)
    return backend


def torch_model(job: dict[str, Any]) -> Any:
    """The eager PyTorch model of the project (its weights as the baseline's), in eval mode."""
    return build_backend(job).model.eval()


class EagerRunner(RunnerBase):
    """Delegates to the PyTorch or the Keras way of calling a model, by the column's runtime."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(job)
        from engine.runtimes import runtime

        rt = runtime(job["framework"])
        self.keras_backend = rt.keras_backend
        self.torch: TorchRunner | None = None
        self.keras: KerasRunner | None = None
        if rt.keras_backend is None:
            self.torch = TorchRunner(job)
        else:
            self.keras = KerasRunner({**job, "keras_backend": rt.keras_backend})
        inner = self.torch or self.keras
        assert inner is not None
        self.inner: RunnerBase = inner

    def imports(self) -> dict[str, str]:
        return self.inner.imports()

    def load(self) -> None:
        backend = build_backend(self.job)
        if self.torch is not None:
            self.torch.module = backend.model.eval()
        elif self.keras is not None:
            sync = getattr(backend, "sync", None)  # Keras on JAX keeps its state apart
            self.keras.model = sync() if callable(sync) else backend.model

    def prepare(self, x: np.ndarray) -> Any:
        return self.inner.prepare(x)

    def infer(self, prepared: Any) -> np.ndarray:
        return self.inner.infer(prepared)
