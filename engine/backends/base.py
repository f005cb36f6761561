"""The interface every framework backend implements, and the one type backends are passed as.

``Backend`` lists what the rest of the engine uses on a backend, besides its ``name``: the worker
(engine.worker: resolve_device, the constructor, build, info, train_step, compiles, evaluate,
peak_device_bytes, get_weights for the trained-weights file), the exporters
(engine.export.torch_export / tf_export: ``model`` and ``plan``) and the backend tests
(forward, predict). engine.backends.load_backend returns ``type[Backend]``, so mypy checks each
backend class against it, and tests/engine/test_backend_protocol.py checks the same without mypy.

Weights cross the process boundary in the *spec layout*, which is Keras' layout: a dict
``{layer_id: {weight_name: float32 ndarray}}`` with these names and shapes per layer type
(channels-last; ``in`` is the input feature/channel count, ``u`` the units):

- Dense: kernel [in, units], bias [units]
- Conv1D: kernel [k, in, filters]; Conv2D: kernel [kh, kw, in, filters]; bias [filters]
- BatchNorm: gamma, beta, moving_mean, moving_variance, each [C]
- LayerNorm: gamma, beta [C]
- Embedding: embeddings [input_dim, output_dim]
- LSTM: kernel [in, 4u], recurrent_kernel [u, 4u], bias [4u]; gate order i, f, c, o
- GRU (reset_after): kernel [in, 3u], recurrent_kernel [u, 3u], bias [2, 3u]; gate order z, r, h
- SimpleRNN: kernel [in, u], recurrent_kernel [u, u], bias [u]

Each backend converts to its own layout internally (PyTorch: NCHW, transposed kernels,
gate order r, z, n for GRU, a second LSTM bias held at zero, the Flatten-after-conv row order).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from engine.backends.plan import Plan
from engine.spec.project import Project

Weights = dict[str, dict[str, np.ndarray]]


class Backend(Protocol):
    name: str  # "torch" or "tensorflow", as engine.backends.FRAMEWORKS names them
    plan: Plan  # what the model is built from; the PyTorch exporter rebuilds models from it
    # The framework's model (torch.nn.Module, keras.Model) once build() ran, else None; the
    # exporters read it. Any: each framework's type is its own, and the protocol imports neither.
    model: Any

    mode: str  # the execution mode (engine.runtimes.Runtime.modes) it trains in

    def __init__(
        self, project: Project, *, device: str = "cpu", threads: int = 1, mode: str = ...
    ) -> None: ...

    @staticmethod
    def resolve_device(requested: str) -> tuple[str, str | None]:
        """'auto'/'cpu'/'cuda' -> ('cpu' or 'cuda', a note saying why when it differs from the
        request, e.g. 'no CUDA device found; using the CPU'). Raise RuntimeError for 'cuda'
        where none is usable."""

    def info(self) -> dict[str, Any]:
        """{'version', 'device', 'threads', 'mode', 'params'} (params as the framework counts
        them)."""

    def compiles(self) -> int:
        """How many graphs or programs the training step has traced or compiled so far (0 for an
        eager mode): the worker reads it after every step, so a rise marks a (re)compile."""

    def build(self, weights: Weights | None, *, optimizer_mode: str = "matched") -> None:
        """Build the model and optimizer. weights=None: native init; optimizer_mode 'matched'
        runs TwinTrain's shared update formula, 'native' the framework's stock optimizer."""

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One whole step (forward, backward, update), synchronised; returns the loss."""

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float | None]:
        """(mean loss, accuracy or None for regression) in inference mode."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Model output, in training mode (Dropout active, BatchNorm on batch statistics) when
        ``training``; channels-last like the spec."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Model output in inference mode, channels-last like the spec."""

    def probe(self, x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
        """For one batch in training mode, per spec layer id: ``output`` (channels-last),
        ``output_grad`` (the loss's gradient with respect to that output) and ``weight_grads``
        ({weight name: gradient} in the spec layout; empty without weights). Computed on a copy
        apart from the trained model, so the training math and state are untouched
        (engine.divergence)."""

    def isolate(
        self, inputs: dict[str, list[np.ndarray]], grads: dict[str, np.ndarray]
    ) -> dict[str, dict[str, Any]]:
        """Each layer alone, fed ``inputs[layer id]`` (its input arrays, channels-last) and
        backpropagating ``grads[layer id]`` (its output's gradient): per layer id, ``output`` and
        ``weight_grads`` in the spec layout, on a copy apart from the trained model
        (engine.layer_probe)."""

    def get_weights(self) -> Weights:
        """Current weights in the spec layout."""

    def peak_device_bytes(self) -> int | None:
        """Peak accelerator memory, or None on CPU."""
