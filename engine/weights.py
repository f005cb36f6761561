"""Matched initial weights: drawn once in numpy from the seed, in the spec (Keras) layout.

Both workers load the same arrays, so the two frameworks start from the same point and every
difference on screen comes from the frameworks themselves. The initialisers are Keras' defaults
(what a Keras user expects): Glorot-uniform kernels, orthogonal recurrent kernels, zero biases
(the LSTM forget gate starts at 1, Keras' ``unit_forget_bias``), BatchNorm gamma 1 / beta 0 /
mean 0 / variance 1, LayerNorm gamma 1 / beta 0, embeddings uniform in [-0.05, 0.05].

Each layer draws from its own stream, seeded by (seed, layer id), so adding or removing one
layer leaves the other layers' initial weights unchanged.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np

from engine.backends.base import Weights
from engine.spec.graph import GraphInfo
from engine.spec.params import pair
from engine.spec.project import Project


def _rng(seed: int, layer_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, 3, zlib.crc32(layer_id.encode("utf-8"))])


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Keras' GlorotUniform: fans count the receptive field (all axes but the last two)."""
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def orthogonal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Keras' Orthogonal (gain 1): QR of a normal matrix, signs fixed by R's diagonal."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q.reshape(shape).astype(np.float32)


Init = Callable[[dict, int, np.random.Generator], dict[str, np.ndarray]]


def _zeros(n: int) -> np.ndarray:
    return np.zeros(n, np.float32)


def _ones(n: int) -> np.ndarray:
    return np.ones(n, np.float32)


def _with_bias(out: dict[str, np.ndarray], p: dict, n: int) -> dict[str, np.ndarray]:
    if p["use_bias"]:
        out["bias"] = _zeros(n)
    return out


def _dense(p: dict, c: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return _with_bias({"kernel": glorot_uniform(rng, (c, p["units"]))}, p, p["units"])


def _conv(rank: int) -> Init:
    def init(p: dict, c: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        k = (p["kernel_size"],) if rank == 1 else pair(p["kernel_size"])
        kernel = glorot_uniform(rng, (*k, c, p["filters"]))
        return _with_bias({"kernel": kernel}, p, p["filters"])

    return init


def _batch_norm(p: dict, c: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "gamma": _ones(c),
        "beta": _zeros(c),
        "moving_mean": _zeros(c),
        "moving_variance": _ones(c),
    }


def _layer_norm(p: dict, c: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"gamma": _ones(c), "beta": _zeros(c)}


def _embedding(p: dict, c: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    shape = (p["input_dim"], p["output_dim"])
    return {"embeddings": rng.uniform(-0.05, 0.05, size=shape).astype(np.float32)}


def _recurrent(gates: int, bias: Callable[[int], np.ndarray]) -> Init:
    """Glorot kernel, orthogonal recurrent kernel (gates side by side), the given bias."""

    def init(p: dict, c: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        u = p["units"]
        kernel = glorot_uniform(rng, (c, gates * u))
        recurrent = orthogonal(rng, (u, gates * u))
        return {"kernel": kernel, "recurrent_kernel": recurrent, "bias": bias(u)}

    return init


def _lstm_bias(u: int) -> np.ndarray:
    bias = _zeros(4 * u)
    bias[u : 2 * u] = 1.0  # forget gate, Keras' unit_forget_bias
    return bias


# The layer types that have weights, keyed by type: each one's matched initial weights in the
# spec layout, from (resolved parameters, input channels, the layer's own random stream).
INIT: dict[str, Init] = {
    "Dense": _dense,
    "Conv1D": _conv(1),
    "Conv2D": _conv(2),
    "BatchNorm": _batch_norm,
    "LayerNorm": _layer_norm,
    "Embedding": _embedding,
    "LSTM": _recurrent(4, _lstm_bias),
    "GRU": _recurrent(3, lambda u: np.zeros((2, 3 * u), np.float32)),  # reset_after: 2 biases
    "SimpleRNN": _recurrent(1, _zeros),
}


def init_weights(project: Project, graph: GraphInfo, seed: int) -> Weights:
    """Initial weights for every layer that has any, in the spec layout of engine.backends.base."""
    by_id = {layer.id: layer for layer in project.layers}
    weights: Weights = {}
    for lid in graph.order:
        layer, info = by_id[lid], graph.layers[lid]
        if info.params == 0:
            continue
        init = INIT.get(layer.type)
        if init is None:
            continue
        shape = info.input_shapes[0]
        weights[lid] = init(layer.resolved(), int(shape[-1]) if shape else 0, _rng(seed, lid))
    return weights
