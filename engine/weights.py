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

import numpy as np

from engine.backends.base import Weights
from engine.spec.graph import GraphInfo
from engine.spec.params import pair
from engine.spec.project import Project

# Gates per recurrent cell, in Keras' gate order (LSTM i, f, c, o; GRU z, r, h).
RNN_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


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


def _layer_weights(
    kind: str, p: dict, in_shape: tuple[int, ...], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    c = int(in_shape[-1]) if in_shape else 0
    zeros = np.zeros
    if kind == "Dense":
        out = {"kernel": glorot_uniform(rng, (c, p["units"]))}
        if p["use_bias"]:
            out["bias"] = zeros(p["units"], np.float32)
        return out
    if kind in ("Conv1D", "Conv2D"):
        k = (p["kernel_size"],) if kind == "Conv1D" else pair(p["kernel_size"])
        out = {"kernel": glorot_uniform(rng, (*k, c, p["filters"]))}
        if p["use_bias"]:
            out["bias"] = zeros(p["filters"], np.float32)
        return out
    if kind == "BatchNorm":
        return {
            "gamma": np.ones(c, np.float32),
            "beta": zeros(c, np.float32),
            "moving_mean": zeros(c, np.float32),
            "moving_variance": np.ones(c, np.float32),
        }
    if kind == "LayerNorm":
        return {"gamma": np.ones(c, np.float32), "beta": zeros(c, np.float32)}
    if kind == "Embedding":
        shape = (p["input_dim"], p["output_dim"])
        return {"embeddings": rng.uniform(-0.05, 0.05, size=shape).astype(np.float32)}
    if kind in RNN_GATES:
        gates, u = RNN_GATES[kind], p["units"]
        kernel = glorot_uniform(rng, (c, gates * u))
        recurrent = orthogonal(rng, (u, gates * u))
        bias = zeros((2, 3 * u) if kind == "GRU" else gates * u, np.float32)
        if kind == "LSTM":
            bias[u : 2 * u] = 1.0  # forget gate, Keras' unit_forget_bias
        return {"kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}
    return {}


def init_weights(project: Project, graph: GraphInfo, seed: int) -> Weights:
    """Initial weights for every layer that has any, in the spec layout of engine.backends.base."""
    by_id = {layer.id: layer for layer in project.layers}
    weights: Weights = {}
    for lid in graph.order:
        layer, info = by_id[lid], graph.layers[lid]
        if info.params == 0:
            continue
        drawn = _layer_weights(
            layer.type, layer.resolved(), tuple(info.input_shapes[0]), _rng(seed, lid)
        )
        if drawn:
            weights[lid] = drawn
    return weights
