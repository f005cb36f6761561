"""The PyTorch side of every layer type, in one table keyed by layer type: ``TORCH``.

Per type: the ``torch_layers`` module that runs it (PyTorch's own layer where there is one), the
channel layout it runs in, and how its weights move between the spec (Keras) layout and
PyTorch's. The backend (torch_backend, torch_layers) and the code export (code_torch) both read
this table and the layout rule below, so the network TwinTrain trains and the script it writes
permute their tensors at the same places.

Framework-free on purpose (numpy only): the code export runs in the parent process, which never
imports torch; modules are named here and looked up in torch_layers by the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Arrays = dict[str, np.ndarray]
Convert = Callable[[Arrays], Arrays]
# "cf": runs channels-first (PyTorch's convolution layout), "cl": channels-last (the spec's),
# None: either, following its first input (its module is told which, see torch_layers).
Layout = Literal["cf", "cl"] | None


@dataclass(frozen=True)
class TorchAdapter:
    """How one spec layer type runs in PyTorch."""

    module: str  # class name in engine.backends.torch_layers
    layout: Layout
    to_torch: Convert | None = None  # spec arrays -> {parameter/buffer name: array}
    from_torch: Convert | None = None  # the inverse; None: the layer has no weights


def run_layout(layer_type: str, first_input: str, first_rank: int) -> Literal["cf", "cl"]:
    """The layout a layer runs in: its own, or (layout None) its first input's; a tensor of
    rank <= 2 (batch included) has no spatial axes and counts as channels-last."""
    want = TORCH[layer_type].layout
    if want is None:
        return first_input if first_rank > 2 else "cl"  # type: ignore[return-value]
    return want


def out_layout(run: str, out_rank: int) -> Literal["cf", "cl"]:
    """The layout of a layer's output, given the layout it ran in."""
    return "cf" if run == "cf" and out_rank > 2 else "cl"


# ---- weights: spec (Keras) layout <-> PyTorch ---------------------------------------------------


def _with_bias(out: Arrays, src: Arrays) -> Arrays:
    if "bias" in src:
        out["bias"] = src["bias"]
    return out


def _dense_to(w: Arrays) -> Arrays:
    return _with_bias({"weight": w["kernel"].T}, w)


def _dense_from(t: Arrays) -> Arrays:
    return _with_bias({"kernel": t["weight"].T}, t)


def _conv_to(w: Arrays) -> Arrays:  # [k.., in, out] -> [out, in, k..]
    k = w["kernel"]
    return _with_bias({"weight": k.transpose(k.ndim - 1, k.ndim - 2, *range(k.ndim - 2))}, w)


def _conv_from(t: Arrays) -> Arrays:
    k = t["weight"]
    return _with_bias({"kernel": k.transpose(*range(2, k.ndim), 1, 0)}, t)


_BN = {
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}
_LN = {"gamma": "weight", "beta": "bias"}
_EMB = {"embeddings": "weight"}


def _renamed(names: dict[str, str]) -> tuple[Convert, Convert]:
    """(to, from) for a layer whose arrays only change names."""
    back = {v: k for k, v in names.items()}
    return (
        lambda w: {names[k]: w[k] for k in names},
        lambda t: {back[k]: t[k] for k in back},
    )


# Keras' GRU gate order is z, r, h; PyTorch's is r, z, n (the swap is its own inverse).
_GRU_ORDER = (1, 0, 2)


def _gru_reorder(a: np.ndarray) -> np.ndarray:
    parts = np.split(a, 3, axis=-1)
    return np.concatenate([parts[i] for i in _GRU_ORDER], axis=-1)


def _gru_to(w: Arrays) -> Arrays:
    return {
        "weight_ih_l0": _gru_reorder(w["kernel"]).T,
        "weight_hh_l0": _gru_reorder(w["recurrent_kernel"]).T,
        "bias_ih_l0": _gru_reorder(w["bias"][0]),
        "bias_hh_l0": _gru_reorder(w["bias"][1]),
    }


def _gru_from(t: Arrays) -> Arrays:
    return {
        "kernel": _gru_reorder(t["weight_ih_l0"].T),
        "recurrent_kernel": _gru_reorder(t["weight_hh_l0"].T),
        "bias": np.stack([_gru_reorder(t["bias_ih_l0"]), _gru_reorder(t["bias_hh_l0"])]),
    }


def _rnn_to(w: Arrays) -> Arrays:
    """LSTM gates i, f, c, o are in PyTorch's order already; Keras' one bias is bias_ih, and
    bias_hh is held at zero."""
    return {
        "weight_ih_l0": w["kernel"].T,
        "weight_hh_l0": w["recurrent_kernel"].T,
        "bias_ih_l0": w["bias"],
        "bias_hh_l0": np.zeros_like(w["bias"]),
    }


def _rnn_from(t: Arrays) -> Arrays:
    return {
        "kernel": t["weight_ih_l0"].T,
        "recurrent_kernel": t["weight_hh_l0"].T,
        "bias": t["bias_ih_l0"] + t["bias_hh_l0"],
    }


_MAX, _AVG = TorchAdapter("MaxPool", "cf"), TorchAdapter("AvgPool", "cf")
_GAP = TorchAdapter("GlobalAvgPool", None)

TORCH: dict[str, TorchAdapter] = {
    "Dense": TorchAdapter("Dense", "cl", _dense_to, _dense_from),
    "Conv1D": TorchAdapter("Conv1D", "cf", _conv_to, _conv_from),
    "Conv2D": TorchAdapter("Conv2D", "cf", _conv_to, _conv_from),
    "MaxPool1D": _MAX,
    "MaxPool2D": _MAX,
    "AvgPool1D": _AVG,
    "AvgPool2D": _AVG,
    "GlobalAvgPool1D": _GAP,
    "GlobalAvgPool2D": _GAP,
    "Flatten": TorchAdapter("Flatten", "cl"),  # flattens in the spec's (Keras') order
    "Reshape": TorchAdapter("Reshape", "cl"),
    "Dropout": TorchAdapter("Dropout", None),
    # PyTorch's batch norm normalises axis 1: channels-first, like nn.BatchNorm2d.
    "BatchNorm": TorchAdapter("BatchNorm", "cf", *_renamed(_BN)),
    "LayerNorm": TorchAdapter("LayerNorm", "cl", *_renamed(_LN)),
    "Activation": TorchAdapter("Activation", None),
    "Embedding": TorchAdapter("Embedding", "cl", *_renamed(_EMB)),
    "LSTM": TorchAdapter("LSTM", "cl", _rnn_to, _rnn_from),
    "GRU": TorchAdapter("GRU", "cl", _gru_to, _gru_from),
    "SimpleRNN": TorchAdapter("SimpleRNN", "cl", _rnn_to, _rnn_from),
    "Add": TorchAdapter("Add", None),
    "Concatenate": TorchAdapter("Concatenate", None),
}
