"""What a dataset looks like, for the app's Inspector: its shape, split and class counts, and a
few samples drawn the way they are best seen (a grid of images per class, rows of a table or of
text, a plot of a few signals). Made from the same arrays training gets, with numpy only: no
framework, no Qt, so the app computes it in a background thread.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data.catalog import DatasetInfo, describe, resolve
from engine.data.load import generate, split_indices
from engine.spec.training import resolve_training

PER_CLASS = 6  # images shown per class
MAX_CLASSES = 10  # classes shown (the counts name them all)
ROWS = 6  # table or text rows
SIGNALS = 6  # sequences plotted
COLUMNS = 6  # table columns shown
# The raw pixel range of the image sets that have one; others are shown from min to max.
PIXEL_RANGE = {"image_folder": (0.0, 1.0), "digits": (0.0, 16.0)}


@dataclass
class Preview:
    """``kind`` says which of ``images``, ``rows`` or ``signals`` holds the samples."""

    name: str
    kind: str  # "images", "table", "text" or "signals"
    x_shape: tuple[int, ...]
    task: str
    n_samples: int
    n_train: int
    n_val: int
    class_counts: list[tuple[str, int]] = field(default_factory=list)  # classification only
    target_range: tuple[float, float] | None = None  # regression only
    # images: (class name, [uint8 H x W x C, ...]) per class, at most MAX_CLASSES
    images: list[tuple[str, list[np.ndarray]]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # table and text: the column names
    rows: list[list[str]] = field(default_factory=list)
    # signals: (label, values [T, C]) per sequence
    signals: list[tuple[str, np.ndarray]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: samples, split, shape, and the classes with their counts (or the range)."""
        shape = "×".join(str(d) for d in self.x_shape)
        text = (
            f"{self.n_samples:,} samples ({self.n_train:,} train, {self.n_val:,} validation), "
            f"{shape} each"
        )
        if self.class_counts:
            counts = ", ".join(f"{name}: {n:,}" for name, n in self.class_counts)
            return f"{text}; {len(self.class_counts)} classes: {counts}"
        if self.target_range is not None:
            low, high = self.target_range
            return f"{text}; target from {low:.4g} to {high:.4g}"
        return text


def _kind(name: str, x_shape: tuple[int, ...]) -> str:
    if name == "text_csv":
        return "text"
    if len(x_shape) == 3:  # [H, W, C]
        return "images"
    if len(x_shape) == 2:  # [T, C]
        return "signals"
    return "table"


def _names(info: DatasetInfo, y: np.ndarray) -> list[str]:
    if info.class_names:
        return list(info.class_names)
    return [str(c) for c in range(int(info.n_classes or (int(y.max()) + 1 if len(y) else 0)))]


def _first_per_class(y: np.ndarray, cls: int, k: int) -> np.ndarray:
    return np.flatnonzero(y == cls)[:k]


def _as_pixels(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """Scaled to 0..255 from the dataset's range (PIXEL_RANGE), so every image keeps its own
    brightness and colours."""
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return np.ascontiguousarray(np.round(scaled * 255).astype(np.uint8))


def _cell(value: float) -> str:
    return f"{value:.4g}"


def _feature_names(dataset: dict, base_dir: Path | None, width: int) -> list[str]:
    """A CSV's own column names (without the target); x0, x1, ... for everything else."""
    if dataset["name"] == "csv":
        from engine.data.files import resolve_path

        with resolve_path(dataset["path"], base_dir).open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
        names = [h.strip() for h in header if h.strip() != dataset["target"]]
        if len(names) == width:
            return names
    return [f"x{i}" for i in range(width)]


def _label(info: DatasetInfo, names: list[str], target: np.ndarray) -> str:
    if info.task == "classification":
        return names[int(target)]
    return ", ".join(_cell(float(v)) for v in np.ravel(target)[:3])


def preview(
    training: dict,
    base_dir: Path | None = None,
    *,
    cancelled: Callable[[], bool] | None = None,
) -> Preview:
    """The preview of a project's ``training`` section (its dataset, seed and split).

    Raises SpecError, as ``check`` does, when the dataset cannot be read."""
    dataset = resolve(training["dataset"])
    info = describe(training["dataset"], base_dir)
    seed = resolve_training(training, info.task)["seed"]
    x, y = generate(dataset, seed, base_dir)
    train, val = split_indices(len(x), seed, dataset["validation_split"])
    kind = _kind(dataset["name"], info.x_shape)
    out = Preview(dataset["name"], kind, info.x_shape, info.task, len(x), len(train), len(val))
    names = _names(info, y) if info.task == "classification" else []
    if names:
        counts = np.bincount(y.astype(np.int64), minlength=len(names))
        out.class_counts = [(n, int(c)) for n, c in zip(names, counts, strict=False)]
    elif len(y):
        out.target_range = (float(np.min(y)), float(np.max(y)))
    if cancelled is not None and cancelled():
        return out
    if kind == "images":
        groups = (
            [
                (names[c], _first_per_class(y, c, PER_CLASS))
                for c in range(min(len(names), MAX_CLASSES))
            ]
            if names
            else [("", np.arange(min(len(x), PER_CLASS)))]
        )
        low, high = PIXEL_RANGE.get(dataset["name"], (float(x.min()), float(x.max())))
        out.images = [
            (label, [_as_pixels(x[i], low, high) for i in picked]) for label, picked in groups
        ]
    elif kind == "signals":
        for i in range(min(len(x), SIGNALS)):
            out.signals.append((_label(info, names, y[i]), np.asarray(x[i], dtype=np.float32)))
    elif kind == "text":
        from engine.data import text_csv

        texts, labels = text_csv.read_rows(dataset, base_dir)
        out.header = [dataset["label"], dataset["text"]]
        out.rows = [[labels[i], texts[i]] for i in range(min(len(texts), ROWS))]
    else:
        flat = x.reshape(len(x), -1)
        width = flat.shape[1]
        columns = _feature_names(dataset, base_dir, width)
        shown = min(width, COLUMNS)
        out.header = [*columns[:shown], *(["…"] if width > shown else []), "target"]
        for i in range(min(len(x), ROWS)):
            cells = [_cell(float(v)) for v in flat[i, :shown]]
            out.rows.append([*cells, *(["…"] if width > shown else []), _label(info, names, y[i])])
    return out
