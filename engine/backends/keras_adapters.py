"""The Keras side of every layer type, in one table keyed by layer type: ``KERAS``.

Per type: the ``keras.layers`` class that runs it and its constructor arguments, each with
Keras' default. The Keras model every Keras runtime trains (keras_model) passes every argument;
the code export (code_keras) writes the ones that differ from Keras' default, so the script
builds the very layers TwinTrain trains. The spec layout is Keras' layout: weights need no
conversion, and every type runs channels-last.

Framework-free on purpose: the code export runs in the parent process, which never imports
keras; keras_model looks the classes up in ``keras.layers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.backends.plan import Node
from engine.spec.params import pair

REQUIRED = object()  # an argument without a default: the script always writes it


@dataclass(frozen=True)
class Arg:
    """One constructor argument: positional when ``keyword`` is None."""

    keyword: str | None
    value: Any
    default: Any = REQUIRED
    size: bool = False  # a kernel/stride size: the script writes one int when all axes agree

    @property
    def written(self) -> bool:
        """Whether the script writes it (a positional one always)."""
        return self.keyword is None or self.default is REQUIRED or self.value != self.default


# args(node, activation): the arguments but the name; ``activation`` is the Keras name of the
# node's activation as the caller applies it (keras_model and the script differ for the
# parametrised ones), None for none.
Args = Callable[[Node, str | None], list[Arg]]


@dataclass(frozen=True)
class KerasLayer:
    """How one spec layer type becomes a Keras layer."""

    cls: str  # class name in keras.layers
    args: Args
    merge: bool = False  # called on the list of its inputs
    channels: str = "last"  # the spec layout is Keras': weights need no conversion


def _sizes(node: Node, key: str) -> tuple[int, ...]:
    rank = len(node.input_shapes[0]) - 1  # spatial axes
    v = node.params[key]
    return (int(v),) if rank == 1 else pair(v)


_LAST = Arg("data_format", "channels_last", "channels_last")


def _dense(n: Node, act: str | None) -> list[Arg]:
    return [
        Arg(None, n.params["units"]),
        Arg("activation", act, None),
        Arg("use_bias", n.params["use_bias"], True),
    ]


def _conv(n: Node, act: str | None) -> list[Arg]:
    p, s = n.params, _sizes(n, "strides")
    return [
        Arg(None, p["filters"]),
        Arg(None, _sizes(n, "kernel_size"), size=True),
        Arg("strides", s, (1,) * len(s), size=True),
        Arg("padding", p["padding"], "valid"),
        Arg("activation", act, None),
        Arg("use_bias", p["use_bias"], True),
        _LAST,
    ]


def _pool(n: Node, act: str | None) -> list[Arg]:
    k = _sizes(n, "pool_size")
    return [
        Arg(None, k, size=True),
        Arg("strides", _sizes(n, "strides"), k, size=True),  # Keras: strides default to k
        Arg("padding", n.params["padding"], "valid"),
        _LAST,
    ]


def _channels_last(n: Node, act: str | None) -> list[Arg]:
    return [_LAST]


def _none(n: Node, act: str | None) -> list[Arg]:
    return []


def _recurrent(**extra: Any) -> Args:
    """Keras' defaults, stated: tanh, a bias, and ``extra`` (recurrent activation, reset_after)."""

    def args(n: Node, act: str | None) -> list[Arg]:
        return [
            Arg(None, n.params["units"]),
            Arg("activation", "tanh", "tanh"),
            Arg("use_bias", True, True),
            Arg("return_sequences", n.params["return_sequences"], False),
            *(Arg(k, v, v) for k, v in extra.items()),
        ]

    return args


def _axis(n: Node) -> int:
    """Keras counts the batch axis, the spec does not: a count from the end stays as it is."""
    axis = int(n.params["axis"])
    return axis if axis < 0 else axis + 1


KERAS: dict[str, KerasLayer] = {
    "Dense": KerasLayer("Dense", _dense),
    "Conv1D": KerasLayer("Conv1D", _conv),
    "Conv2D": KerasLayer("Conv2D", _conv),
    "MaxPool1D": KerasLayer("MaxPooling1D", _pool),
    "MaxPool2D": KerasLayer("MaxPooling2D", _pool),
    "AvgPool1D": KerasLayer("AveragePooling1D", _pool),
    "AvgPool2D": KerasLayer("AveragePooling2D", _pool),
    "GlobalAvgPool1D": KerasLayer("GlobalAveragePooling1D", _channels_last),
    "GlobalAvgPool2D": KerasLayer("GlobalAveragePooling2D", _channels_last),
    "Flatten": KerasLayer("Flatten", _channels_last),
    "Reshape": KerasLayer("Reshape", lambda n, a: [Arg(None, tuple(n.output_shape))]),
    "Dropout": KerasLayer("Dropout", lambda n, a: [Arg(None, float(n.params["rate"]))]),
    "BatchNorm": KerasLayer(
        "BatchNormalization",
        lambda n, a: [
            Arg("axis", -1, -1),
            Arg("momentum", float(n.params["momentum"])),
            Arg("epsilon", float(n.params["epsilon"])),
        ],
    ),
    "LayerNorm": KerasLayer(
        "LayerNormalization",
        lambda n, a: [Arg("axis", -1, -1), Arg("epsilon", float(n.params["epsilon"]))],
    ),
    "Activation": KerasLayer("Activation", lambda n, a: [Arg(None, a or "linear")]),
    "Embedding": KerasLayer(
        "Embedding",
        lambda n, a: [Arg(None, n.params["input_dim"]), Arg(None, n.params["output_dim"])],
    ),
    "LSTM": KerasLayer("LSTM", _recurrent(recurrent_activation="sigmoid")),
    "GRU": KerasLayer("GRU", _recurrent(recurrent_activation="sigmoid", reset_after=True)),
    "SimpleRNN": KerasLayer("SimpleRNN", _recurrent()),
    "Add": KerasLayer("Add", _none, merge=True),
    "Concatenate": KerasLayer("Concatenate", lambda n, a: [Arg("axis", _axis(n), -1)], merge=True),
}
