"""Cases for the backend tests, shared by the test process and the framework workers.

Framework-free on purpose: the test process builds the same projects, weights and inputs from
the same seeds as each worker, so a worker only has to run its framework and report arrays.
"""

from __future__ import annotations

import zlib

import numpy as np

from engine.spec.graph import infer
from engine.spec.params import ACTIVATIONS
from engine.spec.project import Project, from_dict
from engine.weights import init_weights

BATCH = 5


def project(
    input_shape: list[int],
    layers: list[dict],
    *,
    loss: str = "mse",
    optimizer: dict | None = None,
    output: str | None = None,
) -> Project:
    """A project around the given layers (ids l0, l1, ... unless given); the dataset is a
    stand-in."""
    named = [
        {"id": f"l{i}", **layer} if "id" not in layer else layer for i, layer in enumerate(layers)
    ]
    model: dict = {"input": {"shape": input_shape}, "layers": named}
    if output:
        model["output"] = output
    training = {
        "dataset": {"name": "xor"},
        "loss": loss,
        "optimizer": optimizer or {"name": "sgd", "learning_rate": 0.1},
    }
    return from_dict({"format": "twintrain/1", "model": model, "training": training})


def _conv_chain(act: str) -> Project:
    return project(
        [6, 5, 3],
        [
            {
                "type": "Conv2D",
                "filters": 4,
                "kernel_size": 3,
                "padding": "same",
                "activation": act,
            },
            {
                "type": "Activation",
                "activation": act,
            },  # runs channels-first in PyTorch: softmax dim 1
            {"type": "Flatten"},
            {"type": "Dense", "units": 3, "activation": act},
        ],
    )


def _rnn(kind: str, seq: bool) -> Project:
    layers: list[dict] = [{"type": kind, "units": 5, "return_sequences": seq}]
    if seq:
        layers.append({"type": "Flatten"})
    layers.append({"type": "Dense", "units": 2})
    return project([7, 3], layers)


def _pool(kind: str, padding: str, size, strides) -> Project:
    shape = [9, 3] if kind.endswith("1D") else [7, 8, 2]
    return project(
        shape,
        [
            {"type": kind, "pool_size": size, "strides": strides, "padding": padding},
            {"type": "Flatten"},
        ],
    )


FORWARD: dict[str, Project] = {f"activation_{a}": _conv_chain(a) for a in ACTIVATIONS}
FORWARD |= {
    f"{k.lower()}_{'seq' if s else 'last'}": _rnn(k, s)
    for k in ("LSTM", "GRU", "SimpleRNN")
    for s in (True, False)
}
FORWARD |= {
    f"{k.lower()}_{pad}_{i}": _pool(k, pad, size, st)
    for k in ("MaxPool2D", "AvgPool2D")
    for pad in ("valid", "same")
    for i, (size, st) in enumerate([(2, None), (3, 2), ([2, 3], [1, 2])])
}
FORWARD |= {
    f"{k.lower()}_{pad}_{i}": _pool(k, pad, size, st)
    for k in ("MaxPool1D", "AvgPool1D")
    for pad in ("valid", "same")
    for i, (size, st) in enumerate([(2, None), (3, 2), (2, 1)])
}
FORWARD |= {
    "conv_nonsquare_flatten_dense": project(
        [9, 7, 2],
        [
            {"type": "Conv2D", "filters": 5, "kernel_size": [3, 2], "strides": [2, 1]},
            {"type": "Flatten"},
            {"type": "Dense", "units": 4},
        ],
    ),
    "conv_same_stride2": project(
        [9, 8, 3],
        [
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
            {
                "type": "Conv2D",
                "filters": 3,
                "kernel_size": [2, 4],
                "strides": [2, 3],
                "padding": "same",
                "use_bias": False,
            },
            {"type": "Flatten"},
            {"type": "Dense", "units": 2},
        ],
    ),
    "conv_same_even_kernel": project(
        [6, 6, 1],
        [
            {"type": "Conv2D", "filters": 2, "kernel_size": 2, "padding": "same"},
            {"type": "Flatten"},
        ],
    ),
    "conv1d": project(
        [11, 3],
        [
            {"type": "Conv1D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
            {"type": "Conv1D", "filters": 2, "kernel_size": 2},
            {"type": "Flatten"},
            {"type": "Dense", "units": 3},
        ],
    ),
    "global_avg_pool": project(
        [6, 5, 3],
        [
            {"type": "Conv2D", "filters": 4, "kernel_size": 3},
            {"type": "GlobalAvgPool2D"},
            {"type": "Dense", "units": 2},
        ],
    ),
    "global_avg_pool_1d": project(
        [8, 3],
        [
            {"type": "Conv1D", "filters": 4, "kernel_size": 3},
            {"type": "GlobalAvgPool1D"},
        ],
    ),
    "reshape": project(
        [12],
        [
            {"type": "Reshape", "shape": [4, 3]},
            {"type": "Conv1D", "filters": 2, "kernel_size": 2},
            {"type": "Reshape", "shape": [-1]},
            {"type": "Dense", "units": 12},
            {"type": "Reshape", "shape": [2, 2, 3]},
            {"type": "Conv2D", "filters": 2, "kernel_size": 2, "padding": "same"},
            {"type": "Reshape", "shape": [2, 4]},
        ],
    ),
    "dense_on_sequence": project([4, 3], [{"type": "Dense", "units": 5, "activation": "softmax"}]),
    "dropout": project([6], [{"type": "Dense", "units": 4}, {"type": "Dropout", "rate": 0.5}]),
    "batchnorm": project(
        [4, 4, 3],
        [
            {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"},
            {"type": "BatchNorm", "momentum": 0.9, "epsilon": 0.01},
            {"type": "Flatten"},
            {"type": "Dense", "units": 4},
            {"type": "BatchNorm"},
        ],
    ),
    "batchnorm_sequence": project(
        [5, 3],
        [
            {"type": "Dense", "units": 4},
            {"type": "BatchNorm", "momentum": 0.5},
        ],
    ),
    "layernorm": project(
        [4, 4, 2],
        [
            {"type": "Conv2D", "filters": 3, "kernel_size": 2},
            {"type": "LayerNorm", "epsilon": 0.01},
            {"type": "Flatten"},
            {"type": "Dense", "units": 4},
            {"type": "LayerNorm"},
        ],
    ),
    "embedding": project(
        [6],
        [
            {"type": "Embedding", "input_dim": 10, "output_dim": 4},
            {"type": "GRU", "units": 3},
        ],
    ),
    "embedding_flat": project(
        [3, 2],
        [
            {"type": "Embedding", "input_dim": 10, "output_dim": 4},
            {"type": "Flatten"},
        ],
    ),
    "add_concat_graph": project(
        [4, 4, 2],
        [
            {"id": "a", "type": "Conv2D", "filters": 3, "kernel_size": 1, "inputs": ["input"]},
            {"id": "b", "type": "Dense", "units": 3, "inputs": ["input"]},
            {"id": "s", "type": "Add", "inputs": ["b", "a"]},
            {"id": "c1", "type": "Concatenate", "axis": 1, "inputs": ["a", "b"]},
            {"id": "c2", "type": "Concatenate", "inputs": ["a", "s", "a"]},
            {"id": "c3", "type": "Concatenate", "axis": 0, "inputs": ["s", "a"]},
            {"id": "f1", "type": "Flatten", "inputs": ["c1"]},
            {"id": "f2", "type": "Flatten", "inputs": ["c2"]},
            {"id": "f3", "type": "Flatten", "inputs": ["c3"]},
            {"id": "out", "type": "Concatenate", "inputs": ["f1", "f2", "f3"]},
        ],
    ),
    "conv_output": project(
        [5, 5, 2],
        [  # ends channels-first in PyTorch: permuted back
            {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"},
            {"type": "Dropout", "rate": 0.3},
            {"type": "MaxPool2D", "pool_size": 2, "strides": 1, "padding": "same"},
        ],
    ),
    "residual_conv": project(
        [5, 5, 2],
        [
            {
                "id": "c",
                "type": "Conv2D",
                "filters": 2,
                "kernel_size": 3,
                "padding": "same",
                "activation": "relu",
            },
            {"id": "s", "type": "Add", "inputs": ["input", "c"]},
            {"id": "p", "type": "MaxPool2D", "padding": "same"},
            {"id": "g", "type": "GlobalAvgPool2D"},
        ],
    ),
}


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def weights_for(name: str, proj: Project) -> dict[str, dict[str, np.ndarray]]:
    """init_weights with every array then perturbed, so biases and statistics are not trivial
    (a mapping that swaps two zero bias blocks would otherwise pass)."""
    rng = _rng(name)
    graph = infer(proj, check_dataset=False)
    out = {}
    for lid, arrays in init_weights(proj, graph, seed=7).items():
        new = {}
        for key, a in arrays.items():
            if key == "moving_variance":
                new[key] = rng.uniform(0.5, 1.5, a.shape).astype(np.float32)
            else:
                new[key] = (a + rng.normal(0, 0.3, a.shape)).astype(np.float32)
        out[lid] = new
    return out


def input_for(name: str, proj: Project) -> np.ndarray:
    rng = _rng(name + "/x")
    shape = (BATCH, *proj.input_shape)
    if any(layer.type == "Embedding" for layer in proj.layers):
        return rng.integers(0, 10, shape).astype(np.float32)
    return rng.normal(0, 1, shape).astype(np.float32)


# ---- training parity ---------------------------------------------------------------------------

TRAIN_STEPS = 50
TRAIN_BATCH = 16

_MLP = [{"type": "Dense", "units": 16, "activation": "tanh"}, {"type": "Dense", "units": 3}]
OPTIMIZERS = {
    "sgd": {"name": "sgd", "learning_rate": 0.1},
    "sgd_momentum": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
    "sgd_nesterov": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    "adam": {"name": "adam", "learning_rate": 0.01},
    "adamw": {"name": "adamw", "learning_rate": 0.01, "weight_decay": 0.05},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.01},
    "rmsprop_momentum": {"name": "rmsprop", "learning_rate": 0.005, "momentum": 0.5},
}

TRAIN: dict[str, Project] = {
    f"mlp_{k}": project([6], _MLP, loss="cross_entropy", optimizer=opt)
    for k, opt in OPTIMIZERS.items()
}
TRAIN |= {
    f"conv_bn_{k}": project(
        [6, 6, 2],
        [
            # No bias before BatchNorm: its gradient is zero up to rounding, and Adam would turn
            # that rounding noise into full-size steps that differ between the frameworks.
            {
                "type": "Conv2D",
                "filters": 4,
                "kernel_size": 3,
                "padding": "same",
                "use_bias": False,
            },
            {"type": "BatchNorm", "momentum": 0.9},
            {"type": "Activation", "activation": "relu"},
            {"type": "MaxPool2D"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 3},
        ],
        loss="cross_entropy",
        optimizer=OPTIMIZERS[k],
    )
    for k in ("sgd_momentum", "adam", "rmsprop")
}
TRAIN |= {
    "binary_adam": project(
        [6],
        [{"type": "Dense", "units": 8, "activation": "gelu"}, {"type": "Dense", "units": 1}],
        loss="binary_cross_entropy",
        optimizer=OPTIMIZERS["adam"],
    ),
    "mse_adamw": project(
        [6],
        [{"type": "Dense", "units": 8, "activation": "elu"}, {"type": "Dense", "units": 2}],
        loss="mse",
        optimizer=OPTIMIZERS["adamw"],
    ),
    "mae_rmsprop": project(
        [6],
        [{"type": "Dense", "units": 8, "activation": "swish"}, {"type": "Dense", "units": 2}],
        loss="mae",
        optimizer=OPTIMIZERS["rmsprop"],
    ),
    "lstm_adam": project(
        [5, 6],
        [{"type": "LSTM", "units": 6}, {"type": "Dense", "units": 2}],
        loss="mse",
        optimizer=OPTIMIZERS["adam"],
    ),
    "gru_sgd": project(
        [5, 6],
        [
            {"type": "GRU", "units": 6, "return_sequences": True},
            {"type": "GlobalAvgPool1D"},
            {"type": "Dense", "units": 2},
        ],
        loss="mse",
        optimizer=OPTIMIZERS["sgd_momentum"],
    ),
    "simplernn_layernorm_rmsprop": project(
        [5, 6],
        [{"type": "SimpleRNN", "units": 6}, {"type": "LayerNorm"}, {"type": "Dense", "units": 2}],
        loss="mse",
        optimizer=OPTIMIZERS["rmsprop"],
    ),
}


def batches_for(name: str, proj: Project) -> list[tuple[np.ndarray, np.ndarray]]:
    """TRAIN_STEPS batches from a fixed teacher; the batch size varies (a partial last batch
    must neither retrace TensorFlow's step nor break parity)."""
    rng = _rng(name + "/batches")
    loss = proj.training["loss"]
    out = []
    for step in range(TRAIN_STEPS):
        n = TRAIN_BATCH if step % 10 != 9 else 7
        x = rng.normal(0, 1, (n, *proj.input_shape)).astype(np.float32)
        score = x.reshape(n, -1)[:, :3]
        if loss == "cross_entropy":
            y = score.argmax(axis=1).astype(np.int64)
        elif loss == "binary_cross_entropy":
            y = (score[:, 0] > 0).astype(np.int64)
        else:
            y = np.stack([score[:, 0] * score[:, 1], np.sin(score[:, 2])], axis=1).astype(
                np.float32
            )
        out.append((x, y))
    return out


# Trained on the GPU and on the CPU by test_cuda.py (a dense net, a convolution with BatchNorm, two
# recurrent layers: the kernels that differ most between devices).
CUDA = ("mlp_adam", "conv_bn_adam", "lstm_adam", "gru_sgd")
