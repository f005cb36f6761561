"""The keras-torch runtime: the shared Keras functional model (keras_model) on Keras' torch backend.

Imported only in its own worker process: Keras fixes its backend when it is first imported, so
``KERAS_BACKEND=torch`` must be in the environment before that (``engine.backends.load_backend``
sets it from ``RUNTIMES['keras-torch']['env']``; this module sets it again and refuses to run when
keras was already imported with another backend).

The step is Keras' own torch trainer step, written out (what ``TorchTrainer.train_step`` does):
zero the gradients, call the model, ``loss.backward()`` with torch autograd, then
``optimizer.apply(grads, trainable_weights)`` under ``torch.no_grad()``. Chosen over
``train_on_batch`` because it takes the same loss function as the other Keras runtimes (no
compiled Keras loss or metrics), and costs less per step: train_on_batch goes through the data
adapter, the compiled loss and the metrics each call (see bench/engine_overhead.py).

Modes: ``eager`` (default) and ``compile``: the model's forward pass and loss under
``torch.compile`` (engine.backends.torch_compile, what Keras' ``jit_compile=True`` does on this
backend), the optimizer's update eager.

Threads: ``torch.set_num_threads`` (intra-op) and ``set_num_interop_threads`` (once per process).
"""

from __future__ import annotations

import contextlib
import os
import sys

if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != "torch":
    raise RuntimeError("keras was imported with another backend; keras-torch needs its own process")
os.environ["KERAS_BACKEND"] = "torch"

from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from engine.backends.base import Weights  # noqa: E402
from engine.backends.keras_model import (  # noqa: E402
    as_list,
    build_model,
    build_probe_model,
    correct_count,
    load_weights,
    make_optimizer,
    model_output,
    node_layers,
    probe_layout,
    probe_result,
    read_weights,
)
from engine.backends.plan import make_plan  # noqa: E402
from engine.backends.torch_backend import full_float32_on_gpu  # noqa: E402
from engine.backends.torch_compile import compiled, graphs_compiled  # noqa: E402
from engine.spec.project import Project  # noqa: E402

assert keras.backend.backend() == "torch", keras.backend.backend()


# torch's own losses, called (logits, target): keras_model.LOSSES (keras.ops) would
# agree to rounding but costs ~0.6 ms more per step here (each keras.ops call converts and
# dispatches in Python), 5% of a digits_mlp step.
_LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "cross_entropy": F.cross_entropy,
    "binary_cross_entropy": F.binary_cross_entropy_with_logits,
    "mse": F.mse_loss,
    "mae": F.l1_loss,
}


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != threads:
        # Only before the first parallel work: a second backend in one process keeps the first's.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(threads)


class KerasTorchBackend:
    """engine.backends.base.Backend for Keras 3 on PyTorch."""

    name = "keras-torch"

    def __init__(
        self, project: Project, *, device: str = "cpu", threads: int = 1, mode: str = "eager"
    ) -> None:
        _set_threads(threads)
        if device == "cuda":
            full_float32_on_gpu()
        self.project = project
        self.mode = mode
        self._graphs_before = graphs_compiled()
        self.plan = make_plan(project)
        self.device = device
        self.threads = threads
        self.model: keras.Model | None = None
        self.optimizer: keras.optimizers.Optimizer | None = None
        self._loss = _LOSSES[self.plan.loss]

    @staticmethod
    def resolve_device(requested: str) -> tuple[str, str | None]:
        available = torch.cuda.is_available()
        if requested == "cuda" and not available:
            raise RuntimeError("device 'cuda' was asked for but PyTorch sees no GPU")
        if requested == "auto":
            return ("cuda", None) if available else ("cpu", "device auto: PyTorch sees no GPU")
        return requested, None

    # ---- set-up --------------------------------------------------------------------------------

    def build(self, weights: Weights | None, *, optimizer_mode: str = "matched") -> None:
        # Both modes run Keras' stock optimizer (the matched formulas are Keras'); autograd's
        # gradient of an Embedding is dense, as matched mode wants.
        keras.utils.set_random_seed(int(self.project.training.get("seed", 0)))
        with keras.device(self._keras_device()):
            model = build_model(self.plan, "keras-torch")
            if weights is not None:
                load_weights(model, weights)
            self.model = model
            self.optimizer = make_optimizer(self.plan.optimizer)
            self.optimizer.build(model.trainable_variables)
        self._trainable = list(model.trainable_weights)
        self._params = [v.value for v in self._trainable]  # torch Parameters
        loss = self._loss
        self._forward_loss = compiled(
            lambda x, y: loss(model(x, training=True), y), self.mode, self.device
        )

    def compiles(self) -> int:
        """Graphs compiled for this backend's step so far (0 in eager mode)."""
        return graphs_compiled() - self._graphs_before if self.mode != "eager" else 0

    def _keras_device(self) -> str:
        return "cuda:0" if self.device == "cuda" else "cpu"

    def info(self) -> dict[str, Any]:
        return {
            "version": torch.__version__,
            "keras_version": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "device": self.device,
            "threads": torch.get_num_threads(),
            "mode": self.mode,
            "params": None if self.model is None else int(self.model.count_params()),
        }

    # ---- steps ---------------------------------------------------------------------------------

    def _tensors(self, x: np.ndarray, y: np.ndarray | None = None) -> Any:
        dev = self._keras_device()
        xt = torch.as_tensor(np.asarray(x, dtype=np.float32), device=dev)
        if y is None:
            return xt
        return xt, torch.as_tensor(self.plan.target(y), device=dev)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        assert self.model is not None, "build() first"
        assert self.optimizer is not None, "build() first"
        xt, yt = self._tensors(x, y)
        for p in self._params:
            p.grad = None
        loss = self._forward_loss(xt, yt)
        loss.backward()
        grads = [p.grad for p in self._params]
        with torch.no_grad():
            self.optimizer.apply(grads, self._trainable)
        return float(loss.detach())  # synchronises on a GPU

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The model output in training or inference mode (training mode updates BatchNorm)."""
        assert self.model is not None, "build() first"
        with torch.no_grad():
            out = self.model(self._tensors(x), training=training)
        return out.detach().cpu().numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, training=False)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float | None]:
        assert self.model is not None, "build() first"
        total, correct = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                xb, yb = self._tensors(x[i : i + batch_size], y[i : i + batch_size])
                out = self.model(xb, training=False)
                total += float(self._loss(out, yb)) * len(xb)
                correct += int(correct_count(self.plan.loss, yb, out))
        n = max(len(x), 1)
        return total / n, (correct / n if self.plan.classification else None)

    def probe(self, x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
        """Per layer: output, its gradient, the weight gradients (engine.divergence), from a
        probe model apart from the trained one, eager."""
        dev = self._keras_device()
        with keras.device(dev):
            model = build_probe_model(self.plan, self.get_weights())
        zeros = [
            torch.zeros((len(x), *n.output_shape), device=dev, requires_grad=True)
            for n in self.plan.nodes
        ]
        params = [v.value for v in model.trainable_variables]
        xt, yt = self._tensors(x, y)
        outs = as_list(model([xt, *zeros], training=True))
        self._loss(model_output(self.plan, outs), yt).backward()
        return probe_result(
            self.plan,
            [o.detach() for o in outs],
            [z.grad for z in zeros],
            [p.grad for p in params],
            probe_layout(model, self.plan),
        )

    def isolate(
        self, inputs: dict[str, list[np.ndarray]], grads: dict[str, np.ndarray]
    ) -> dict[str, dict[str, Any]]:
        """Each layer alone, fed another column's inputs and output gradient (engine.divergence):
        its output and weight gradients, on a probe model apart from the trained one."""
        dev = self._keras_device()
        with keras.device(dev):
            model = build_probe_model(self.plan, self.get_weights())
        out: dict[str, dict[str, Any]] = {}
        for node in self.plan.nodes:
            layer, extra, merge = node_layers(model, node)
            ins = [torch.as_tensor(a, device=dev) for a in inputs[node.id]]
            weights = list(layer.trainable_variables)
            y = layer(ins if merge else ins[0], training=True)
            if extra is not None:
                y = extra(y)
            if weights:
                y.backward(torch.as_tensor(grads[node.id], device=dev))
            out[node.id] = {
                "output": y.detach().cpu().numpy(),
                "weight_grads": {v.name: v.value.grad.cpu().numpy() for v in weights},
            }
        return out

    # ---- state ---------------------------------------------------------------------------------

    def get_weights(self) -> Weights:
        assert self.model is not None, "build() first"
        return read_weights(self.model, self.plan)

    def peak_device_bytes(self) -> int | None:
        if self.device != "cuda":
            return None
        return int(torch.cuda.max_memory_allocated())
