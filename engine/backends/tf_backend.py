"""The TensorFlow/Keras backend: a functional Keras 3 model trained by a tf.function step.

Imported only in the TensorFlow worker process. The step is the idiomatic custom loop (the
Keras model called inside ``tf.function`` under a GradientTape, not ``model.fit``), with a batch
axis of None in its input signature so the last, smaller batch of an epoch does not retrace.
TwinTrain's matched optimizer formulas are Keras' own (see torch_optim), so this side runs
Keras' stock optimizers in both optimizer modes, every hyper-parameter passed explicitly.
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
from engine.backends.plan import ELU_ALPHA, LEAKY_RELU_SLOPE, Node, Plan, make_plan  # noqa: E402
from engine.spec.params import pair  # noqa: E402
from engine.spec.project import INPUT_ID, Project  # noqa: E402

# A user's ~/.keras/keras.json must not change what TwinTrain compares.
keras.config.set_floatx("float32")

# Activations with a parameter get an explicit layer so the value is stated, not inherited
# (Keras' LeakyReLU layer defaults to 0.3, its leaky_relu function to 0.2).
_PARAMETRISED = {
    "leaky_relu": lambda name: keras.layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE, name=name),
    "elu": lambda name: keras.layers.ELU(alpha=ELU_ALPHA, name=name),
}
# Keras names for the others (gelu is exact, approximate=False; swish is silu; softmax: last axis).
_NAMES = {
    "relu": "relu",
    "gelu": "gelu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
    "softplus": "softplus",
    "swish": "silu",
}


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


class _Builder:
    """Turns plan nodes into Keras layers applied to Keras tensors."""

    def __init__(self, plan: Plan) -> None:
        self.taken = {n.id for n in plan.nodes} | {INPUT_ID}

    def _name(self, base: str) -> str:
        name, i = base, 1
        while name in self.taken:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name

    def _activated(
        self, node: Node, layer_fn: Callable[[str | None], keras.layers.Layer], tensor: Any
    ) -> Any:
        """Apply a layer built with ``activation=`` (or without, plus an explicit layer)."""
        act = node.params.get("activation", "none")
        if act in _PARAMETRISED:
            out = layer_fn(None)(tensor)
            return _PARAMETRISED[act](self._name(f"{node.id}_{act}"))(out)
        return layer_fn(_NAMES.get(act))(tensor)

    def apply(self, node: Node, ins: list[Any]) -> Any:
        """The Keras tensor a node computes from its inputs' (symbolic) tensors."""
        p, name, kl = node.params, node.id, keras.layers
        kind = node.type
        if kind == "Dense":
            return self._activated(
                node,
                lambda a: kl.Dense(p["units"], activation=a, use_bias=p["use_bias"], name=name),
                ins[0],
            )
        if kind in ("Conv1D", "Conv2D"):
            rank = 1 if kind == "Conv1D" else 2
            k = (p["kernel_size"],) if rank == 1 else pair(p["kernel_size"])
            s = (p["strides"],) if rank == 1 else pair(p["strides"])
            cls = kl.Conv1D if rank == 1 else kl.Conv2D
            return self._activated(
                node,
                lambda a: cls(
                    p["filters"],
                    k,
                    strides=s,
                    padding=p["padding"],
                    activation=a,
                    use_bias=p["use_bias"],
                    data_format="channels_last",
                    name=name,
                ),
                ins[0],
            )
        if kind in ("MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D"):
            rank = 1 if kind.endswith("1D") else 2
            k = (p["pool_size"],) if rank == 1 else pair(p["pool_size"])
            s = (p["strides"],) if rank == 1 else pair(p["strides"])
            cls = {
                "MaxPool1D": kl.MaxPooling1D,
                "MaxPool2D": kl.MaxPooling2D,
                "AvgPool1D": kl.AveragePooling1D,
                "AvgPool2D": kl.AveragePooling2D,
            }[kind]
            return cls(k, strides=s, padding=p["padding"], data_format="channels_last", name=name)(
                ins[0]
            )
        if kind == "GlobalAvgPool1D":
            return kl.GlobalAveragePooling1D(data_format="channels_last", name=name)(ins[0])
        if kind == "GlobalAvgPool2D":
            return kl.GlobalAveragePooling2D(data_format="channels_last", name=name)(ins[0])
        if kind == "Flatten":
            return kl.Flatten(data_format="channels_last", name=name)(ins[0])
        if kind == "Reshape":
            return kl.Reshape(tuple(node.output_shape), name=name)(ins[0])
        if kind == "Dropout":
            return kl.Dropout(p["rate"], name=name)(ins[0])
        if kind == "BatchNorm":
            return kl.BatchNormalization(
                axis=-1, momentum=p["momentum"], epsilon=p["epsilon"], name=name
            )(ins[0])
        if kind == "LayerNorm":
            return kl.LayerNormalization(axis=-1, epsilon=p["epsilon"], name=name)(ins[0])
        if kind == "Activation":
            return self._activated(node, lambda a: kl.Activation(a or "linear", name=name), ins[0])
        if kind == "Embedding":
            return kl.Embedding(p["input_dim"], p["output_dim"], name=name)(ins[0])
        if kind == "LSTM":
            return kl.LSTM(
                p["units"],
                activation="tanh",
                recurrent_activation="sigmoid",
                use_bias=True,
                return_sequences=p["return_sequences"],
                name=name,
            )(ins[0])
        if kind == "GRU":
            return kl.GRU(
                p["units"],
                activation="tanh",
                recurrent_activation="sigmoid",
                use_bias=True,
                reset_after=True,
                return_sequences=p["return_sequences"],
                name=name,
            )(ins[0])
        if kind == "SimpleRNN":
            return kl.SimpleRNN(
                p["units"],
                activation="tanh",
                use_bias=True,
                return_sequences=p["return_sequences"],
                name=name,
            )(ins[0])
        if kind == "Add":
            return kl.Add(name=name)(ins)
        if kind == "Concatenate":
            axis = p["axis"] % len(node.output_shape) + 1  # Keras counts the batch axis
            return kl.Concatenate(axis=axis, name=name)(ins)
        raise ValueError(f"layer type {kind} is not supported by the TensorFlow backend")


def build_model(plan: Plan) -> keras.Model:
    inp = keras.Input(shape=plan.input_shape, name=INPUT_ID, dtype="float32")
    tensors = {INPUT_ID: inp}
    builder = _Builder(plan)
    for node in plan.nodes:
        tensors[node.id] = builder.apply(node, [tensors[r] for r in node.inputs])
    return keras.Model(inp, tensors[plan.output_id], name="twintrain")


def make_optimizer(spec: dict) -> keras.optimizers.Optimizer:
    """Keras' stock optimizer for a resolved optimizer section, every hyper-parameter explicit."""
    name, lr, opt = spec["name"], spec["learning_rate"], keras.optimizers
    if name == "sgd":
        return opt.SGD(
            learning_rate=lr, momentum=float(spec["momentum"]), nesterov=spec["nesterov"]
        )
    if name == "adam":
        return opt.Adam(
            learning_rate=lr,
            beta_1=spec["beta_1"],
            beta_2=spec["beta_2"],
            epsilon=spec["epsilon"],
            amsgrad=False,
        )
    if name == "adamw":
        return opt.AdamW(
            learning_rate=lr,
            weight_decay=spec["weight_decay"],
            beta_1=spec["beta_1"],
            beta_2=spec["beta_2"],
            epsilon=spec["epsilon"],
            amsgrad=False,
        )
    if name == "rmsprop":
        return opt.RMSprop(
            learning_rate=lr,
            rho=spec["rho"],
            momentum=spec["momentum"],
            epsilon=spec["epsilon"],
            centered=False,
        )
    raise ValueError(f"unknown optimizer '{name}'")


def _loss_fn(loss: str) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
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

    def __init__(self, project: Project, *, device: str = "cpu", threads: int = 1) -> None:
        _set_threads(threads)
        _set_device(device)
        self.project = project
        self.plan = make_plan(project)
        self.device = device
        self.threads = threads
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
        model = build_model(self.plan)
        if weights is not None:
            _load(model, weights)
        self.model = model
        self.optimizer = make_optimizer(self.plan.optimizer)
        # Matched mode updates every Embedding row each step, as PyTorch's dense gradients do;
        # native mode keeps Keras' sparse update of the rows in the batch (a real difference).
        self._dense_grads = optimizer_mode == "matched"
        self._trainable = list(model.trainable_variables)
        self.optimizer.build(self._trainable)
        self._train_fn = tf.function(self._train, input_signature=[self._x_spec, self._y_spec])
        self._eval_fn = tf.function(self._eval, input_signature=[self._x_spec, self._y_spec])

    def info(self) -> dict[str, Any]:
        return {
            "version": tf.__version__,
            "keras_version": keras.__version__,
            "device": self.device,
            "threads": self.threads,
            "params": None if self.model is None else int(self.model.count_params()),
        }

    # ---- steps ---------------------------------------------------------------------------------

    def _train(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        assert self.model is not None and self.optimizer is not None  # build() ran
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

    def _eval(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        assert self.model is not None  # build() ran
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
        return float(self._train_fn(x, self.plan.target(y)).numpy())

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

    # ---- state ---------------------------------------------------------------------------------

    def get_weights(self) -> Weights:
        assert self.model is not None, "build() first"
        out: Weights = {}
        for node in self.plan.nodes:
            layer = self.model.get_layer(node.id)
            if layer.weights:
                out[node.id] = {
                    v.name: np.array(v.numpy(), dtype=np.float32) for v in layer.weights
                }
        return out

    def peak_device_bytes(self) -> int | None:
        if self.device != "cuda":
            return None
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])


def _load(model: keras.Model, weights: Weights) -> None:
    for lid, arrays in weights.items():
        layer = model.get_layer(lid)
        names = [v.name for v in layer.weights]
        missing = set(names) ^ set(arrays)
        if missing:
            raise ValueError(f"layer '{lid}': weights {sorted(arrays)} do not match {names}")
        for v in layer.weights:
            value = np.asarray(arrays[v.name], dtype=np.float32)
            if tuple(value.shape) != tuple(v.shape):
                raise ValueError(
                    f"layer '{lid}': {v.name} has shape {list(value.shape)}, "
                    f"expected {list(v.shape)}"
                )
            v.assign(value)
