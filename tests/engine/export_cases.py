"""Projects for the export tests: every preset, plus a few that together use every layer type,
activation, optimizer, loss and dataset kind (presets alone do not), and layer ids that clash
with Python keywords and with names the generated scripts use.

``write_cases(folder)`` saves them as project files (the CSV/NPZ data beside them) so both
framework subprocesses read the very same projects.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted((ROOT / "presets").glob("*.twintrain.json"))
SUFFIX = ".twintrain.json"


def _project(name: str, shape: list[int], layers: list[dict], training: dict) -> dict:
    return {
        "format": "twintrain/1",
        "name": name,
        "description": f"export test case {name}",
        "model": {"input": {"shape": shape}, "layers": layers},
        "training": training,
    }


ZOO: dict[str, dict] = {
    # Image graph: strided/asymmetric 'same' padding, every 2D pooling path, channels-first merges.
    "zoo_image": _project(
        "zoo-image",
        [8, 8, 1],
        [
            {
                "id": "c1",
                "type": "Conv2D",
                "filters": 4,
                "kernel_size": 3,
                "strides": 2,
                "padding": "same",
                "activation": "leaky_relu",
            },
            {
                "id": "c2",
                "type": "Conv2D",
                "filters": 4,
                "kernel_size": [2, 3],
                "padding": "same",
                "activation": "elu",
                "use_bias": False,
                "inputs": ["input"],
            },
            {"id": "p2", "type": "MaxPool2D", "pool_size": 3, "strides": 2, "padding": "same"},
            {
                "id": "c3",
                "type": "Conv2D",
                "filters": 4,
                "kernel_size": 4,
                "strides": 2,
                "padding": "same",
                "inputs": ["input"],
            },
            {"id": "cat", "type": "Concatenate", "inputs": ["c1", "p2", "c3"]},
            {"id": "bn", "type": "BatchNorm", "momentum": 0.9},
            {"id": "a1", "type": "Activation", "activation": "gelu"},
            {"id": "ap", "type": "AvgPool2D", "pool_size": 2, "strides": 1, "padding": "same"},
            {
                "id": "ap2",
                "type": "AvgPool2D",
                "pool_size": 3,
                "strides": 1,
                "padding": "same",
                "inputs": ["a1"],
            },
            {"id": "add", "type": "Add", "inputs": ["ap", "ap2"]},
            {"id": "sm", "type": "Activation", "activation": "softmax"},
            {"id": "mp", "type": "MaxPool2D"},
            {"id": "gap", "type": "GlobalAvgPool2D"},
            {"id": "flat", "type": "Flatten", "inputs": ["mp"]},
            {"id": "cat2", "type": "Concatenate", "inputs": ["gap", "flat"]},
            {"id": "drop", "type": "Dropout", "rate": 0.1},
            {"id": "ln", "type": "LayerNorm"},
            {"id": "fc", "type": "Dense", "units": 16, "activation": "swish"},
            {"id": "out", "type": "Dense", "units": 10},
        ],
        {
            "dataset": {"name": "digits"},
            "loss": "cross_entropy",
            "batch_size": 64,
            "epochs": 3,
            "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
        },
    ),
    # Sequence graph: 1D conv/pooling, batch norm over channels, every recurrent layer.
    "zoo_sequence": _project(
        "zoo-sequence",
        [20, 1],
        [
            {
                "id": "conv",
                "type": "Conv1D",
                "filters": 4,
                "kernel_size": 3,
                "padding": "same",
                "activation": "tanh",
            },
            {"id": "bn", "type": "BatchNorm"},
            {"id": "mp", "type": "MaxPool1D"},
            {"id": "ap", "type": "AvgPool1D", "pool_size": 3, "strides": 2, "padding": "same"},
            {"id": "lstm", "type": "LSTM", "units": 8, "return_sequences": True},
            {"id": "gru", "type": "GRU", "units": 8, "return_sequences": True},
            {"id": "gap", "type": "GlobalAvgPool1D"},
            {"id": "rnn", "type": "SimpleRNN", "units": 6, "inputs": ["lstm"]},
            {"id": "gap1", "type": "GlobalAvgPool1D", "inputs": ["mp"]},
            {"id": "cat", "type": "Concatenate", "inputs": ["gap", "rnn", "gap1"]},
            {"id": "act", "type": "Activation", "activation": "softplus"},
            {"id": "out", "type": "Dense", "units": 1},
        ],
        {
            "dataset": {"name": "sine_sequence", "n_samples": 600, "noise": 0.05},
            "loss": "mae",
            "batch_size": 32,
            "epochs": 3,
            "optimizer": {"name": "adamw", "learning_rate": 0.01},
        },
    ),
    # Integer tokens through an embedding; binary logits.
    "zoo_embedding": _project(
        "zoo-embedding",
        [8, 1],
        [
            {"id": "emb", "type": "Embedding", "input_dim": 2, "output_dim": 4},
            {"id": "rs", "type": "Reshape", "shape": [8, 4]},
            {"id": "rnn", "type": "SimpleRNN", "units": 8, "return_sequences": True},
            {"id": "ln", "type": "LayerNorm", "epsilon": 0.0001},
            {"id": "gru", "type": "GRU", "units": 8},
            {"id": "out", "type": "Dense", "units": 1},
        ],
        {
            "dataset": {"name": "parity_bits", "n_samples": 800},
            "loss": "binary_cross_entropy",
            "batch_size": 32,
            "epochs": 3,
            "optimizer": {"name": "rmsprop", "learning_rate": 0.003, "momentum": 0.5},
        },
    ),
    # Layer ids that are keywords, builtins or names the scripts use themselves. (Ids equal to
    # nn.Module attributes, e.g. "forward", are covered without a backend in test_export_code.)
    "zoo_names": _project(
        "zoo-names",
        [2],
        [
            {"id": "self", "type": "Dense", "units": 8, "activation": "sigmoid"},
            {"id": "x", "type": "Dense", "units": 8, "activation": "relu"},
            {"id": "sum", "type": "Dense", "units": 8, "activation": "tanh", "inputs": ["self"]},
            {"id": "lambda", "type": "Add", "inputs": ["x", "sum"]},
            {"id": "F", "type": "Activation", "activation": "relu"},
            {"id": "np", "type": "Dense", "units": 3, "use_bias": False},
        ],
        {
            "dataset": {"name": "blobs", "n_samples": 600},
            "batch_size": 32,
            "epochs": 3,
            "optimizer": {"name": "adam", "learning_rate": 0.01},
        },
    ),
    # Regression with standardised targets.
    "zoo_diabetes": _project(
        "zoo-diabetes",
        [10],
        [
            {"id": "hidden", "type": "Dense", "units": 16, "activation": "gelu"},
            {"id": "drop", "type": "Dropout", "rate": 0.2},
            {"id": "out", "type": "Dense", "units": 1},
        ],
        {
            "dataset": {"name": "diabetes"},
            "batch_size": 32,
            "epochs": 3,
            "optimizer": {"name": "rmsprop", "learning_rate": 0.003},
        },
    ),
    # A user's NPZ file with text labels, and a user's CSV file for regression.
    "zoo_npz": _project(
        "zoo-npz",
        [4],
        [{"id": "out", "type": "Dense", "units": 3}],
        {
            "dataset": {"name": "npz", "path": "data/points.npz"},
            "batch_size": 16,
            "epochs": 3,
            "optimizer": {"name": "adam", "learning_rate": 0.01},
        },
    ),
    "zoo_csv": _project(
        "zoo-csv",
        [3],
        [
            {"id": "hidden", "type": "Dense", "units": 8, "activation": "relu"},
            {"id": "out", "type": "Dense", "units": 1},
        ],
        {
            "dataset": {"name": "csv", "path": "table.csv", "target": "price"},
            "loss": "mae",
            "batch_size": 16,
            "epochs": 3,
            "optimizer": {"name": "sgd", "learning_rate": 0.01},
        },
    ),
    "zoo_images": _project(
        "zoo-images",
        [12, 12, 1],
        [
            {"id": "conv", "type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
            {"id": "gap", "type": "GlobalAvgPool2D"},
            {"id": "out", "type": "Dense", "units": 3},
        ],
        {
            "dataset": {
                "name": "image_folder",
                "path": "shapes",
                "size": [12, 12],
                "color": "grayscale",
            },
            "batch_size": 8,
            "epochs": 3,
            "optimizer": {"name": "adam", "learning_rate": 0.01},
        },
    ),
}


def _write_data(folder: Path) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(240, 4)).astype(np.float32)
    names = np.array(["ant", "bee", "cat"])
    y = names[np.argmax(x[:, :3] + 0.3 * rng.normal(size=(240, 3)), axis=1)]
    (folder / "data").mkdir(exist_ok=True)
    np.savez(folder / "data" / "points.npz", x=x, y=y)
    rows = ["size,rooms,age,price"]
    for _ in range(200):
        size, rooms, age = rng.uniform(40, 200), rng.integers(1, 6), rng.uniform(0, 80)
        price = 2.0 * size + 15 * rooms - 0.8 * age + rng.normal(0, 10)
        rows.append(f"{size:.2f},{rooms},{age:.1f},{price:.2f}")
    (folder / "table.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_cases(folder: Path) -> list[Path]:
    """Every case as a project file in ``folder`` (presets copied), sorted by name."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_data(folder)
    for preset in PRESETS:
        shutil.copy(preset, folder / preset.name)
    # the presets' own data files (a text CSV), where their relative paths expect them
    shutil.copytree(ROOT / "presets" / "data", folder / "data", dirs_exist_ok=True)
    shutil.copytree(ROOT / "tests" / "data" / "shapes", folder / "shapes", dirs_exist_ok=True)
    for key, doc in ZOO.items():
        (folder / f"{key}{SUFFIX}").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return sorted(folder.glob(f"*{SUFFIX}"))


def case_key(path: Path) -> str:
    return path.name[: -len(SUFFIX)]
