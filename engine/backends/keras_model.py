"""The Keras model, backend-neutral: what every Keras runtime (TensorFlow, JAX, PyTorch) shares.

Imports only ``keras`` (and ``keras.ops``), never a backend framework: the caller's worker has set
``KERAS_BACKEND`` before the first ``import keras`` (Keras fixes its backend per process at import;
``engine.backends.load_backend`` sets it from the runtime's table before importing the backend
module, and each backend module sets it again and checks it, so a direct import is safe too).

- ``LAYERS``: one adapter per layer type, keyed by type (no if-chain): keras_adapters' table of
  the Keras class and its arguments per type (framework-free, so the code export reads it too).
  The spec layout *is* Keras' layout, so weights need no conversion here (``load_weights`` /
  ``read_weights``); the channel layout is channels-last for every type.
- ``make_optimizer``: Keras' stock optimizer with every hyper-parameter explicit. TwinTrain's
  matched optimizer formulas are Keras' own (see torch_optim), so every Keras runtime runs them.
- ``make_loss``: the losses in ``keras.ops`` (mean over the batch), numerically stable forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from engine.backends.base import Weights
from engine.backends.keras_adapters import KERAS, KerasLayer
from engine.backends.plan import ELU_ALPHA, LEAKY_RELU_SLOPE, Node, Plan
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

    def activated(self, node: Node, layer_fn: Callable[[str | None], Any], tensor: Any) -> Any:
        """Apply a layer built with ``activation=`` (or without, plus an explicit layer)."""
        act = node.params.get("activation", "none")
        if act in _PARAMETRISED:
            out = layer_fn(None)(tensor)
            return _PARAMETRISED[act](self.name(f"{node.id}_{act}"))(out)
        return layer_fn(_NAMES.get(act))(tensor)


# ---- per-layer adapters: keras_adapters' table ------------------------------------------------

# Layer types by type, each a keras_adapters.KerasLayer: its keras.layers class and arguments
# (shared with the code export, so the script builds the layers trained here).
LAYERS: dict[str, KerasLayer] = KERAS


def _apply(b: _Builder, node: Node, ins: list) -> Any:
    """Build the node's Keras layer, every argument passed, and call it on its inputs."""
    adapter = LAYERS[node.type]
    cls = getattr(keras.layers, adapter.cls)

    def make(act: str | None) -> Any:
        args = adapter.args(node, act)
        positional = [a.value for a in args if a.keyword is None]
        keywords = {a.keyword: a.value for a in args if a.keyword is not None}
        return cls(*positional, **keywords, name=node.id)

    if adapter.merge:
        return make(None)(ins)
    return b.activated(node, make, ins[0])


def build_model(plan: Plan, runtime: str = "Keras") -> keras.Model:
    """The functional Keras model of a plan (layer names are the spec's layer ids)."""
    inp = keras.Input(shape=plan.input_shape, name=INPUT_ID, dtype="float32")
    tensors = {INPUT_ID: inp}
    builder = _Builder(plan)
    for node in plan.nodes:
        if node.type not in LAYERS:
            raise ValueError(f"layer type {node.type} is not supported by the {runtime} backend")
        tensors[node.id] = _apply(builder, node, [tensors[r] for r in node.inputs])
    return keras.Model(inp, tensors[plan.output_id], name="twintrain")


def build_probe_model(plan: Plan, weights: Weights) -> keras.Model:
    """The model again, for engine.divergence's probes: inputs ``[x, *zeros]`` with one zero
    tensor added to each layer's output (the gradient of the loss with respect to it is that
    output's gradient, in every backend alike), every layer's output an output. Built apart
    and loaded with ``weights`` (a backend's get_weights: trainable and not), so probing never
    touches the trained model's state."""
    inp = keras.Input(shape=plan.input_shape, name=INPUT_ID, dtype="float32")
    tensors = {INPUT_ID: inp}
    zeros = []
    builder = _Builder(plan)
    for node in plan.nodes:
        out = _apply(builder, node, [tensors[r] for r in node.inputs])
        zero = keras.Input(shape=node.output_shape, name=builder.name(f"{node.id}_probe"))
        zeros.append(zero)
        tensors[node.id] = keras.layers.Add(name=builder.name(f"{node.id}_plus"))([out, zero])
    model = keras.Model([inp, *zeros], [tensors[n.id] for n in plan.nodes], name="probe")
    load_weights(model, weights)
    return model


def node_layers(model: keras.Model, node: Node) -> tuple[Any, Any | None, bool]:
    """(the node's Keras layer, its separate activation layer or None, whether it takes a list
    of inputs): what engine.divergence's isolated comparison calls for one node."""
    act = node.params.get("activation", "none")
    extra = None
    if act in _PARAMETRISED:
        extra = next(
            (layer for layer in model.layers if layer.name.startswith(f"{node.id}_{act}")), None
        )
    return model.get_layer(node.id), extra, LAYERS[node.type].merge


def as_list(outputs: Any) -> list[Any]:
    """A probe model's outputs as a list (Keras returns a one-layer model's output bare)."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def model_output(plan: Plan, outputs: list[Any]) -> Any:
    """The model's output among a probe model's outputs (one per node, in plan order)."""
    return outputs[[n.id for n in plan.nodes].index(plan.output_id)]


def probe_layout(model: keras.Model, plan: Plan) -> list[tuple[str, str]]:
    """(layer id, weight name) of each of ``model.trainable_variables``, in that order."""
    owner = {
        id(v): (node.id, v.name)
        for node in plan.nodes
        for v in model.get_layer(node.id).trainable_weights
    }
    return [owner[id(v)] for v in model.trainable_variables]


def probe_result(
    plan: Plan,
    outputs: list[Any],
    output_grads: list[Any],
    weight_grads: list[Any],
    layout: list[tuple[str, str]],
) -> dict[str, dict[str, Any]]:
    """engine.divergence's per-layer probe from a Keras probe model's arrays."""
    out: dict[str, dict[str, Any]] = {
        node.id: {
            "output": np.asarray(ops.convert_to_numpy(o), dtype=np.float32),
            "output_grad": np.asarray(ops.convert_to_numpy(g), dtype=np.float32),
            "weight_grads": {},
        }
        for node, o, g in zip(plan.nodes, outputs, output_grads, strict=True)
    }
    for (lid, name), g in zip(layout, weight_grads, strict=True):
        out[lid]["weight_grads"][name] = np.asarray(ops.convert_to_numpy(g), dtype=np.float32)
    return out


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
                    f"layer '{lid}': {v.name} has shape {list(value.shape)}, "
                    f"expected {list(v.shape)}"
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


def _cross_entropy(y: Any, out: Any) -> Any:
    logp = ops.log_softmax(out, axis=-1)
    picked = ops.take_along_axis(logp, ops.expand_dims(ops.cast(y, "int32"), -1), axis=-1)
    return -ops.mean(picked)


def _binary_cross_entropy(
    y: Any, out: Any
) -> Any:  # log(1 + e^-|z|) + max(z, 0) - z*y, stable for any z
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


def correct_count(loss: str, y: Any, out: Any) -> Any:
    """Correct predictions in a batch (0 for regression), in keras.ops."""
    if loss == "cross_entropy":
        return ops.sum(ops.cast(ops.equal(ops.argmax(out, axis=-1), ops.cast(y, "int32")), "int32"))
    if loss == "binary_cross_entropy":
        return ops.sum(ops.cast(ops.equal(ops.cast(out > 0, y.dtype), y), "int32"))
    return ops.convert_to_tensor(0, "int32")
