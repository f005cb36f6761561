"""The TensorFlow/Keras backend: a functional Keras 3 model trained by a tf.function step.

Imported only in the TensorFlow worker process. The step is the idiomatic custom loop (the
Keras model called inside ``tf.function`` under a GradientTape, not ``model.fit``). Its modes:
``graph`` (default) traces it once with a batch axis of None in its input signature, so the last,
smaller batch of an epoch does not retrace; ``xla`` adds ``jit_compile=True`` and no signature,
since XLA compiles one program per concrete shape anyway: a smaller last batch is one more trace
and compile, counted; ``eager`` calls the same Python step without ``tf.function``.
TwinTrain's matched optimizer formulas are Keras' own (see torch_optim), so this side runs
Keras' stock optimizers in both optimizer modes, every hyper-parameter passed explicitly.

The model, weights and optimizer are keras_model's (shared with the keras-jax and keras-torch
runtimes); what stays here is TensorFlow's: the tf.function step, densifying an Embedding's
IndexedSlices gradient, thread pools and devices, and the tf.nn losses.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ["KERAS_BACKEND"] = (
    "tensorflow"  # this is the TensorFlow backend, whatever the user's default
)

from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from engine.backends.base import Weights  # noqa: E402
from engine.backends.keras_model import (  # noqa: E402
    as_list,
    build_model,
    build_probe_model,
    load_weights,
    make_optimizer,
    model_output,
    node_layers,
    probe_layout,
    probe_result,
    read_weights,
)
from engine.backends.plan import make_plan  # noqa: E402
from engine.spec.project import Project  # noqa: E402


def _set_threads(threads: int) -> None:
    """Thread pools can be sized only before TF's runtime starts; a second backend in the same
    process (tests) keeps the first one's sizes when they are equal."""
    t = tf.config.threading
    for get, put in (
        (t.get_intra_op_parallelism_threads, t.set_intra_op_parallelism_threads),
        (t.get_inter_op_parallelism_threads, t.set_inter_op_parallelism_threads),
    ):
        if get() == threads:
            continue
        try:
            put(threads)
        except RuntimeError as exc:
            raise RuntimeError(
                f"TensorFlow already runs with {get()} threads; cannot switch to {threads}"
            ) from exc


def _set_device(device: str) -> None:
    gpus = tf.config.list_physical_devices("GPU")
    if device == "cuda":
        if not gpus:
            raise RuntimeError("device 'cuda' was asked for but TensorFlow sees no GPU")
        for gpu in gpus:  # before TF touches the GPU, so it does not take all its memory
            tf.config.experimental.set_memory_growth(gpu, True)
        # Full float32 on both sides (TF's default TF32 matmuls would part the curves by ~1e-3).
        tf.config.experimental.enable_tensor_float_32_execution(False)
    elif gpus:
        tf.config.set_visible_devices([], "GPU")


def _loss_fn(loss: str) -> Callable[[Any, Any], Any]:
    if loss == "cross_entropy":
        return lambda y, out: tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out)
        )
    if loss == "binary_cross_entropy":
        return lambda y, out: tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=out)
        )
    if loss == "mse":
        return lambda y, out: tf.reduce_mean(tf.square(out - y))
    if loss == "mae":
        return lambda y, out: tf.reduce_mean(tf.abs(out - y))
    raise ValueError(f"unknown loss '{loss}'")


class TFBackend:
    """engine.backends.base.Backend for TensorFlow with Keras 3."""

    name = "tensorflow"

    def __init__(
        self, project: Project, *, device: str = "cpu", threads: int = 1, mode: str = "graph"
    ) -> None:
        _set_threads(threads)
        _set_device(device)
        self.project = project
        self.plan = make_plan(project)
        self.device = device
        self.threads = threads
        self.mode = mode
        self.model: keras.Model | None = None
        self.optimizer: keras.optimizers.Optimizer | None = None
        self._loss = _loss_fn(self.plan.loss)
        ydtype = tf.int64 if self.plan.loss == "cross_entropy" else tf.float32
        self._x_spec = tf.TensorSpec((None, *self.plan.input_shape), tf.float32)
        self._y_spec = tf.TensorSpec((None, *self.plan.target_shape), ydtype)

    @staticmethod
    def resolve_device(requested: str) -> tuple[str, str | None]:
        """('cpu' or 'cuda', a note when 'auto' fell back) for a --device value."""
        available = bool(tf.config.list_physical_devices("GPU"))
        if requested == "cuda" and not available:
            raise RuntimeError("device 'cuda' was asked for but TensorFlow sees no GPU")
        if requested == "auto":
            return (
                ("cuda", None)
                if available
                else ("cpu", "device auto: TensorFlow sees no GPU; using the CPU")
            )
        return requested, None

    # ---- set-up --------------------------------------------------------------------------------

    def build(self, weights: Weights | None, *, optimizer_mode: str = "matched") -> None:
        keras.utils.set_random_seed(int(self.project.training.get("seed", 0)))
        model = build_model(self.plan, "TensorFlow")
        if weights is not None:
            load_weights(model, weights)
        self.model = model
        self.optimizer = make_optimizer(self.plan.optimizer)
        # Matched mode updates every Embedding row each step, as PyTorch's dense gradients do;
        # native mode keeps Keras' sparse update of the rows in the batch (a real difference).
        self._dense_grads = optimizer_mode == "matched"
        self._trainable = list(model.trainable_variables)
        self.optimizer.build(self._trainable)
        self._train_fn: Any = {
            "graph": lambda: tf.function(self._train, input_signature=[self._x_spec, self._y_spec]),
            "xla": lambda: tf.function(self._train, jit_compile=True),
            "eager": lambda: self._train,
        }[self.mode]()
        self._eval_fn = tf.function(self._eval, input_signature=[self._x_spec, self._y_spec])

    def info(self) -> dict[str, Any]:
        return {
            "version": tf.__version__,
            "keras_version": keras.__version__,
            "device": self.device,
            "threads": self.threads,
            "mode": self.mode,
            "params": None if self.model is None else int(self.model.count_params()),
        }

    def compiles(self) -> int:
        """Traces of the step function so far (each one an XLA compile in xla mode; 0 eager)."""
        count = getattr(self._train_fn, "experimental_get_tracing_count", None)
        return int(count()) if count is not None else 0

    # ---- steps ---------------------------------------------------------------------------------

    def _train(self, x: Any, y: Any) -> Any:
        assert self.model is not None and self.optimizer is not None, "build() first"
        with tf.GradientTape() as tape:
            loss = self._loss(y, self.model(x, training=True))
        grads = tape.gradient(loss, self._trainable)
        if (
            self._dense_grads
        ):  # an Embedding's gradient arrives as IndexedSlices (rows in the batch)
            grads = [
                tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads
            ]
        self.optimizer.apply(grads, self._trainable)
        return loss

    def _eval(self, x: Any, y: Any) -> tuple[Any, Any]:
        assert self.model is not None, "build() first"
        out = self.model(x, training=False)
        loss = self._loss(y, out)
        if self.plan.loss == "cross_entropy":
            correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(out, axis=-1), y), tf.int64))
        elif self.plan.loss == "binary_cross_entropy":
            correct = tf.reduce_sum(tf.cast(tf.equal(tf.cast(out > 0, y.dtype), y), tf.int64))
        else:
            correct = tf.constant(0, tf.int64)
        return loss, correct

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self._train_fn(tf.constant(x), tf.constant(self.plan.target(y))).numpy())

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The model output in training or inference mode (training mode updates BatchNorm).

        Eager: one call costs less than tracing a function for it."""
        assert self.model is not None, "build() first"
        return self.model(np.asarray(x, dtype=np.float32), training=training).numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, training=False)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float | None]:
        total, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], self.plan.target(y[i : i + batch_size])
            loss, c = self._eval_fn(xb, yb)
            total += float(loss.numpy()) * len(xb)
            correct += int(c.numpy())
        n = max(len(x), 1)
        return total / n, (correct / n if self.plan.classification else None)

    def probe(self, x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
        """Per layer: output, its gradient, the weight gradients (engine.divergence), from a
        probe model apart from the trained one; eager, as a probe runs once."""
        model = build_probe_model(self.plan, self.get_weights())
        zeros = [tf.zeros((len(x), *n.output_shape)) for n in self.plan.nodes]
        variables = list(model.trainable_variables)
        with tf.GradientTape() as tape:
            tape.watch(zeros)
            outs = as_list(model([tf.constant(x, tf.float32), *zeros], training=True))
            loss = self._loss(tf.constant(self.plan.target(y)), model_output(self.plan, outs))
        grads = tape.gradient(loss, zeros + variables)
        dense = [tf.convert_to_tensor(g) for g in grads]  # an Embedding's IndexedSlices
        return probe_result(
            self.plan,
            outs,
            dense[: len(zeros)],
            dense[len(zeros) :],
            probe_layout(model, self.plan),
        )

    def isolate(
        self, inputs: dict[str, list[np.ndarray]], grads: dict[str, np.ndarray]
    ) -> dict[str, dict[str, Any]]:
        """Each layer alone, fed another column's inputs and output gradient (engine.divergence):
        its output and weight gradients, on a probe model apart from the trained one."""
        model = build_probe_model(self.plan, self.get_weights())
        out: dict[str, dict[str, Any]] = {}
        for node in self.plan.nodes:
            layer, extra, merge = node_layers(model, node)
            ins = [tf.constant(a, tf.float32) for a in inputs[node.id]]
            weights = list(layer.trainable_variables)
            with tf.GradientTape() as tape:
                y = layer(ins if merge else ins[0], training=True)
                if extra is not None:
                    y = extra(y)
            g = tape.gradient(y, weights, output_gradients=tf.constant(grads[node.id]))
            out[node.id] = {
                "output": y.numpy(),
                "weight_grads": {
                    v.name: tf.convert_to_tensor(gi).numpy() for v, gi in zip(weights, g)
                },
            }
        return out

    # ---- state ---------------------------------------------------------------------------------

    def get_weights(self) -> Weights:
        assert self.model is not None, "build() first"
        return read_weights(self.model, self.plan)

    def peak_device_bytes(self) -> int | None:
        if self.device != "cuda":
            return None
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
