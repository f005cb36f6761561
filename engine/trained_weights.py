"""A run's trained weights, kept in its run folder as plain numpy (``weights/torch.npz``,
``weights/tensorflow.npz``, one per runtime) so that models can be exported from them after the run.

Each worker writes its own framework's weights, in the spec layout of engine.backends.base,
at the end of every epoch (outside the timed steps): a finished run keeps its final weights, a
stopped one those of its last full epoch, and a stop is never slowed down by a write. Keys are
``layer_id/weight_name``; files are read back with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from engine.runtimes import all_columns, file_stem
from engine.spec.project import write_atomic

WEIGHTS_DIR = "weights"

Weights = dict[str, dict[str, np.ndarray]]


def weights_file(folder: str | Path, framework: str) -> Path:
    """``framework``: a column (``torch:compile`` is kept as ``torch_compile.npz``)."""
    return Path(folder) / f"{file_stem(framework)}.npz"


def save_weights(weights: Weights, path: str | Path) -> Path:
    """Write atomically (engine.spec.project.write_atomic: the old file or the complete new one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {
        f"{lid}/{name}": np.asarray(value)
        for lid, arrays in weights.items()
        for name, value in arrays.items()
    }
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, **flat)  # numpy's default, named so ** is the arrays
    write_atomic(path, buffer.getvalue())
    return path


def load_weights(path: str | Path) -> Weights:
    weights: Weights = {}
    with np.load(Path(path), allow_pickle=False) as data:
        for key in data.files:
            lid, _, name = key.rpartition("/")
            if not lid:
                raise ValueError(f"{path}: '{key}' is not a layer_id/weight_name key")
            weights.setdefault(lid, {})[name] = data[key].astype(np.float32, copy=False)
    return weights


def resolve_dir(path: str | Path) -> Path:
    """A run folder or its ``weights/`` folder -> the folder holding the .npz files."""
    path = Path(path)
    return path / WEIGHTS_DIR if (path / WEIGHTS_DIR).is_dir() else path


def available(path: str | Path) -> list[str]:
    """The columns whose trained weights a run folder (or weights folder) holds."""
    folder = resolve_dir(path)
    return [fw for fw in all_columns() if weights_file(folder, fw).is_file()]
