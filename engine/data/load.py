"""Make a project's data once: generate or read it, split it, normalise it, order its batches.

Both workers call ``load_data`` with the same project and get bit-identical arrays, and
``batch_indices`` gives both the same batch order, so the frameworks see the same samples in
the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.catalog import DatasetInfo, describe, resolve
from engine.spec.project import Project
from engine.spec.training import resolve_training


@dataclass
class Data:
    """Train and validation arrays, float32 inputs, int64 labels or float32 targets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    info: DatasetInfo
    task: str  # "classification" or "regression" (autoencoders are regression on x)
    n_classes: int | None

    def batch_indices(self, epoch: int, batch_size: int, seed: int) -> list[np.ndarray]:
        return batch_indices(len(self.x_train), batch_size, seed, epoch)


def batch_indices(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The shuffled batches of one epoch; the last one may be smaller."""
    order = np.random.default_rng([seed, 1, epoch]).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def generate(
    dataset: dict, seed: int, base_dir: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Raw (x, y) for a resolved dataset section, before splitting or normalising."""
    name = dataset["name"]
    rng = np.random.default_rng([seed, 0])
    rs = int(rng.integers(0, 2**31 - 1))
    x: np.ndarray
    y: np.ndarray
    if name == "xor":
        n = dataset["n_samples"]
        x = rng.uniform(-1, 1, size=(n, 2))
        y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
        x = x + rng.normal(0, dataset["noise"], size=x.shape)
    elif name == "moons":
        from sklearn.datasets import make_moons

        x, y = make_moons(dataset["n_samples"], noise=dataset["noise"], random_state=rs)
    elif name == "circles":
        from sklearn.datasets import make_circles

        x, y = make_circles(
            dataset["n_samples"], noise=dataset["noise"], factor=0.5, random_state=rs
        )
    elif name == "spirals":
        x, y = _spirals(dataset["n_samples"], dataset["n_classes"], dataset["noise"], rng)
    elif name == "blobs":
        from sklearn.datasets import make_blobs

        x, y = make_blobs(
            dataset["n_samples"],
            centers=dataset["n_classes"],
            cluster_std=dataset["noise"],
            random_state=rs,
        )
    elif name == "sine_sequence":
        n, length = dataset["n_samples"], dataset["length"]
        freq = rng.uniform(0.1, 0.5, size=(n, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
        t = np.arange(length + 1)[None, :]
        wave = np.sin(freq * t + phase) + rng.normal(0, dataset["noise"], size=(n, length + 1))
        x, y = wave[:, :length, None], wave[:, length:]
    elif name == "parity_bits":
        n, length = dataset["n_samples"], dataset["length"]
        bits = rng.integers(0, 2, size=(n, length))
        x, y = bits[:, :, None], bits.sum(axis=1) % 2
    elif name in ("digits", "iris", "wine", "breast_cancer", "diabetes"):
        x, y = _bundled(name)
        if name == "digits":
            x = x.reshape(-1, 8, 8, 1)
        if name == "diabetes":
            y = y.reshape(-1, 1)
    elif name == "mnist1d":
        from engine.data import mnist1d

        x, y = mnist1d.make(dataset["n_samples"], rng)
    elif name == "text_csv":
        from engine.data import text_csv

        x, y = text_csv.load(dataset, seed, base_dir)
    elif name == "image_folder":
        from engine.data import images

        x, y, _classes = images.load(dataset, base_dir)
    else:
        from engine.data.files import load_file

        x, y, _, _ = load_file(dataset, base_dir)
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    y = y.astype(np.int64) if y.dtype.kind in "biu" else y.astype(np.float32)
    return x, y


def _bundled(name: str) -> tuple[np.ndarray, np.ndarray]:
    from engine.data.sklearn_files import read

    found = read(name)
    if found is not None:
        return found
    import sklearn.datasets as skd

    bunch = getattr(skd, f"load_{name}")()
    return bunch.data, bunch.target


def _spirals(
    n: int, k: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    per = [n // k + (1 if i < n % k else 0) for i in range(k)]
    xs, ys = [], []
    for c, m in enumerate(per):
        r = np.linspace(0.05, 1.0, m)
        theta = np.linspace(c * 2 * np.pi / k, c * 2 * np.pi / k + 3 * np.pi, m) + rng.normal(
            0, noise, m
        )
        xs.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))
        ys.append(np.full(m, c))
    return np.concatenate(xs), np.concatenate(ys)


def split_indices(n: int, seed: int, validation_split: float) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) sample indices: the split ``load_data`` makes (and the text_csv
    vocabulary is counted on)."""
    order = np.random.default_rng([seed, 2]).permutation(n)
    n_val = int(round(n * validation_split))
    return order[n_val:], order[:n_val]


def load_data(project: Project) -> Data:
    """The project's data, split and normalised, identical on every call with the same project."""
    info = describe(project.training["dataset"], project.base_dir)
    training = resolve_training(project.training, info.task)
    dataset = resolve(project.training["dataset"])
    seed = training["seed"]
    x, y = generate(dataset, seed, project.base_dir)
    train, val = split_indices(len(x), seed, dataset["validation_split"])
    x_train, x_val, y_train, y_val = x[train], x[val], y[train], y[val]
    norm = dataset["normalize"]
    if norm == "pixels":
        scale = np.float32(16.0 if dataset["name"] == "digits" else 255.0)
        x_train, x_val = x_train / scale, x_val / scale
    elif norm == "standard":
        mean = x_train.mean(axis=0, dtype=np.float64)
        std = x_train.std(axis=0, dtype=np.float64)
        std[std == 0] = 1.0
        x_train = ((x_train - mean) / std).astype(np.float32)
        x_val = ((x_val - mean) / std).astype(np.float32)
        if info.task == "regression" and dataset["name"] in ("diabetes", "csv"):
            ym, ys = y_train.mean(axis=0), y_train.std(axis=0)
            ys[ys == 0] = 1.0
            y_train, y_val = (
                ((y_train - ym) / ys).astype(np.float32),
                ((y_val - ym) / ys).astype(np.float32),
            )
    task, n_classes = info.task, info.n_classes
    if training["target"] == "input":
        y_train, y_val, task, n_classes = x_train.copy(), x_val.copy(), "regression", None
    return Data(
        np.ascontiguousarray(x_train, dtype=np.float32),
        y_train,
        np.ascontiguousarray(x_val, dtype=np.float32),
        y_val,
        info,
        task,
        n_classes,
    )
