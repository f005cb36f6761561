"""The Keras model, backend-neutral: what every Keras runtime (TensorFlow, JAX, PyTorch) shares.

Imports only ``keras`` (and ``keras.ops``), never a backend framework: the caller's worker has set
``KERAS_BACKEND`` before the first ``import keras`` (Keras fixes its backend per process at import;
``engine.backends.load_backend`` sets it from the runtime's table before importing the backend
module, and each backend module sets it again and checks it, so a direct import is safe too).

- ``LAYERS``: one adapter per layer type, keyed by type (no if-chain): builds the Keras layer from
  a plan node and applies it. The spec layout *is* Keras' layout, so weights need no conversion
  here (``load_weights`` / ``read_weights``); the channel layout is channels-last for every type.
- ``make_optimizer``: Keras' stock optimizer with every hyper-parameter explicit. TwinTrain's
  matched optimizer formulas are Keras' own (see torch_optim), so every Keras runtime runs them.
- ``make_loss``: the losses in ``keras.ops`` (mean over the batch), numerically stable forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from engine.backends.base import Weights
from engine.backends.plan import ELU_ALPHA, LEAKY_RELU_SLOPE, Node, Plan
from engine.spec.params import pair
from engine.spec.project import INPUT_ID

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


class _Builder:
    """Naming and activation help for the adapters while one model is built."""

    def __init__(self, plan: Plan) -> None:
        self.taken = {n.id for n in plan.nodes} | {INPUT_ID}

    def name(self, base: str) -> str:
        name, i = base, 1
        while name in self.taken:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name

    def activated(self, node: Node, layer_fn, tensor):
        """Apply a layer built with ``activation=`` (or without, plus an explicit layer)."""
        act = node.params.get("activation", "none")
        if act in _PARAMETRISED:
            out = layer_fn(None)(tensor)
            return _PARAMETRISED[act](self.name(f"{node.id}_{act}"))(out)
        return layer_fn(_NAMES.get(act))(tensor)


# ---- per-layer adapters ------------------------------------------------------------------------

Apply = Callable[[_Builder, Node, list], Any]


@dataclass(frozen=True)
class LayerAdapter:
    """How one spec layer type becomes Keras: ``apply`` builds the layer and calls it on the
    input tensors. Weights are in the spec layout already (it is Keras'), ``channels`` says so."""

    apply: Apply
    channels: str = "last"


def _dense(b: _Builder, n: Node, ins: list):
    p = n.params
    return b.activated(
        n,
        lambda a: keras.layers.Dense(p["units"], activation=a, use_bias=p["use_bias"], name=n.id),
        ins[0],
    )


def _conv(rank: int) -> Apply:
    cls = keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D

    def apply(b: _Builder, n: Node, ins: list):
        p = n.params
        k = (p["kernel_size"],) if rank == 1 else pair(p["kernel_size"])
        s = (p["strides"],) if rank == 1 else pair(p["strides"])
        return b.activated(
            n,
            lambda a: cls(
                p["filters"],
                k,
                strides=s,
                padding=p["padding"],
                activation=a,
                use_bias=p["use_bias"],
                data_format="channels_last",
                name=n.id,
            ),
            ins[0],
        )

    return apply


def _pool(cls, rank: int) -> Apply:
    def apply(b: _Builder, n: Node, ins: list):
        p = n.params
        k = (p["pool_size"],) if rank == 1 else pair(p["pool_size"])
        s = (p["strides"],) if rank == 1 else pair(p["strides"])
        layer = cls(k, strides=s, padding=p["padding"], data_format="channels_last", name=n.id)
        return layer(ins[0])

    return apply


def _simple(make: Callable[[Node], Any], merge: bool = False) -> Apply:
    """A layer whose construction needs only the node; ``merge``: it takes the list of inputs."""
    return lambda b, n, ins: make(n)(ins if merge else ins[0])


def _recurrent(n: Node, cls, **extra):
    return cls(
        n.params["units"],
        activation="tanh",
        use_bias=True,
        return_sequences=n.params["return_sequences"],
        name=n.id,
        **extra,
    )


_L = keras.layers
LAYERS: dict[str, LayerAdapter] = {
    "Dense": LayerAdapter(_dense),
    "Conv1D": LayerAdapter(_conv(1)),
    "Conv2D": LayerAdapter(_conv(2)),
    "MaxPool1D": LayerAdapter(_pool(_L.MaxPooling1D, 1)),
    "MaxPool2D": LayerAdapter(_pool(_L.MaxPooling2D, 2)),
    "AvgPool1D": LayerAdapter(_pool(_L.AveragePooling1D, 1)),
    "AvgPool2D": LayerAdapter(_pool(_L.AveragePooling2D, 2)),
    "GlobalAvgPool1D": LayerAdapter(
        _simple(lambda n: _L.GlobalAveragePooling1D(data_format="channels_last", name=n.id))
    ),
    "GlobalAvgPool2D": LayerAdapter(
        _simple(lambda n: _L.GlobalAveragePooling2D(data_format="channels_last", name=n.id))
    ),
    "Flatten": LayerAdapter(_simple(lambda n: _L.Flatten(data_format="channels_last", name=n.id))),
    "Reshape": LayerAdapter(_simple(lambda n: _L.Reshape(tuple(n.output_shape), name=n.id))),
    "Dropout": LayerAdapter(_simple(lambda n: _L.Dropout(n.params["rate"], name=n.id))),
    "BatchNorm": LayerAdapter(
        _simple(
            lambda n: _L.BatchNormalization(
                axis=-1, momentum=n.params["momentum"], epsilon=n.params["epsilon"], name=n.id
            )
        )
    ),
    "LayerNorm": LayerAdapter(
        _simple(lambda n: _L.LayerNormalization(axis=-1, epsilon=n.params["epsilon"], name=n.id))
    ),
    "Activation": LayerAdapter(
        lambda b, n, ins: b.activated(n, lambda a: _L.Activation(a or "linear", name=n.id), ins[0])
    ),
    "Embedding": LayerAdapter(
        _simple(lambda n: _L.Embedding(n.params["input_dim"], n.params["output_dim"], name=n.id))
    ),
    "LSTM": LayerAdapter(_simple(lambda n: _recurrent(n, _L.LSTM, recurrent_activation="sigmoid"))),
    "GRU": LayerAdapter(
        _simple(lambda n: _recurrent(n, _L.GRU, recurrent_activation="sigmoid", reset_after=True))
    ),
    "SimpleRNN": LayerAdapter(_simple(lambda n: _recurrent(n, _L.SimpleRNN))),
    "Add": LayerAdapter(_simple(lambda n: _L.Add(name=n.id), merge=True)),
    # Keras counts the batch axis; the spec's axis does not.
    "Concatenate": LayerAdapter(
        _simple(
            lambda n: _L.Concatenate(axis=n.params["axis"] % len(n.output_shape) + 1, name=n.id),
            merge=True,
        )
    ),
}


def build_model(plan: Plan, runtime: str = "Keras") -> keras.Model:
    """The functional Keras model of a plan (layer names are the spec's layer ids)."""
    inp = keras.Input(shape=plan.input_shape, name=INPUT_ID, dtype="float32")
    tensors = {INPUT_ID: inp}
    builder = _Builder(plan)
    for node in plan.nodes:
        adapter = LAYERS.get(node.type)
        if adapter is None:
            raise ValueError(f"layer type {node.type} is not supported by the {runtime} backend")
        tensors[node.id] = adapter.apply(builder, node, [tensors[r] for r in node.inputs])
    return keras.Model(inp, tensors[plan.output_id], name="twintrain")


# ---- weights (spec layout == Keras layout) -----------------------------------------------------


def load_weights(model: keras.Model, weights: Weights) -> None:
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
                    f"layer '{lid}': {v.name} has shape {list(value.shape)}, expected {list(v.shape)}"
                )
            v.assign(value)


def read_weights(model: keras.Model, plan: Plan) -> Weights:
    out: Weights = {}
    for node in plan.nodes:
        layer = model.get_layer(node.id)
        if layer.weights:
            out[node.id] = {
                v.name: np.array(ops.convert_to_numpy(v.value), dtype=np.float32)
                for v in layer.weights
            }
    return out


# ---- optimizer and loss ------------------------------------------------------------------------


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


def _cross_entropy(y, out):
    logp = ops.log_softmax(out, axis=-1)
    picked = ops.take_along_axis(logp, ops.expand_dims(ops.cast(y, "int32"), -1), axis=-1)
    return -ops.mean(picked)


def _binary_cross_entropy(y, out):  # log(1 + e^-|z|) + max(z, 0) - z*y, stable for any z
    return ops.mean(ops.relu(out) - out * y + ops.log1p(ops.exp(-ops.abs(out))))


LOSSES: dict[str, Callable] = {
    "cross_entropy": _cross_entropy,
    "binary_cross_entropy": _binary_cross_entropy,
    "mse": lambda y, out: ops.mean(ops.square(out - y)),
    "mae": lambda y, out: ops.mean(ops.abs(out - y)),
}


def make_loss(loss: str) -> Callable:
    """loss(y, logits) -> scalar mean, in keras.ops (any backend)."""
    try:
        return LOSSES[loss]
    except KeyError:
        raise ValueError(f"unknown loss '{loss}'") from None


def correct_count(loss: str, y, out):
    """Correct predictions in a batch (0 for regression), in keras.ops."""
    if loss == "cross_entropy":
        return ops.sum(ops.cast(ops.equal(ops.argmax(out, axis=-1), ops.cast(y, "int32")), "int32"))
    if loss == "binary_cross_entropy":
        return ops.sum(ops.cast(ops.equal(ops.cast(out > 0, y.dtype), y), "int32"))
    return ops.convert_to_tensor(0, "int32")
