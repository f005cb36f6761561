"""A user's own data: CSV and NPZ files, read safely and checked before any worker starts.

Paths come from a project file, which may come from anyone: they must be relative to the
project's folder and stay inside it (no absolute paths, no '..'), and NPZ files are read
without pickle.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path, PurePath

import numpy as np

from engine.spec.errors import SpecError

MAX_FILE_BYTES = 512 * 1024 * 1024


def _fail(message: str, field: str = "path") -> SpecError:
    return SpecError(message, field=f"training.dataset.{field}")


def resolve_path(path: str, base_dir: Path | None) -> Path:
    """The file a project's dataset path names, refused when it leaves the project's folder."""
    pure = PurePath(path)
    if pure.is_absolute() or path.startswith("~"):
        raise _fail(f"'{path}' must be relative to the project file's folder")
    if ".." in pure.parts:
        raise _fail(f"'{path}' leaves the project file's folder ('..' is not allowed)")
    if base_dir is None:
        raise _fail("save the project first: a data file's path is relative to the project file")
    full = (Path(base_dir) / pure).resolve()
    root = Path(base_dir).resolve()
    if root not in full.parents and full != root:
        raise _fail(f"'{path}' resolves outside the project file's folder")
    if not full.is_file():
        raise _fail(f"data file '{path}' not found next to the project file")
    if full.stat().st_size > MAX_FILE_BYTES:
        raise _fail(f"data file '{path}' is larger than {MAX_FILE_BYTES >> 20} MiB")
    return full


def load_file(dataset: dict, base_dir: Path | None) -> tuple[np.ndarray, np.ndarray, str, int | None]:
    """(x float32, y, task, n_classes) for a resolved csv or npz dataset section."""
    full = resolve_path(dataset["path"], base_dir)
    if dataset["name"] == "csv":
        x, labels = _read_csv(full, dataset["target"], dataset["path"])
    else:
        x, labels = _read_npz(full, dataset["path"])
    return _targets(x, labels, dataset["task"], dataset["path"])


def describe_file(dataset: dict, base_dir: Path | None):
    from engine.data.catalog import DatasetInfo

    x, y, task, n_classes = load_file(dataset, base_dir)
    y_shape = () if task == "classification" else tuple(y.shape[1:])
    return DatasetInfo(dataset["name"], tuple(x.shape[1:]), task, n_classes, y_shape, len(x))


def _read_csv(full: Path, target: str, shown: str) -> tuple[np.ndarray, list[str]]:
    try:
        text = full.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(f"'{shown}' is not UTF-8 text (byte {exc.start})") from None
    rows = list(csv.reader(text.splitlines()))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise _fail(f"'{shown}' needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if target not in header:
        raise _fail(f"'{shown}' has no column '{target}' (columns: {', '.join(header[:20])})", "target")
    t = header.index(target)
    features = [i for i in range(len(header)) if i != t]
    if not features:
        raise _fail(f"'{shown}' has no feature columns besides '{target}'")
    x = np.empty((len(rows) - 1, len(features)), dtype=np.float32)
    labels: list[str] = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise _fail(f"'{shown}' row {r} has {len(row)} values, the header has {len(header)}")
        for j, i in enumerate(features):
            cell = row[i].strip()
            try:
                value = float(cell)
            except ValueError:
                what = "is empty (missing value)" if not cell else f"is not a number ('{cell[:20]}')"
                raise _fail(f"'{shown}' row {r}, column '{header[i]}' {what}") from None
            if not math.isfinite(value):
                raise _fail(f"'{shown}' row {r}, column '{header[i]}' is not finite ({cell})")
            x[r - 2, j] = value
        label = row[t].strip()
        if not label:
            raise _fail(f"'{shown}' row {r}, column '{target}' is empty (missing label)", "target")
        labels.append(label)
    return x, labels


def _read_npz(full: Path, shown: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(full, allow_pickle=False) as data:
            missing = [k for k in ("x", "y") if k not in data.files]
            if missing:
                raise _fail(f"'{shown}' lacks array(s) {', '.join(missing)} (it has: {', '.join(data.files) or 'none'})")
            x, y = data["x"], data["y"]
    except SpecError:
        raise
    except ValueError as exc:
        raise _fail(f"'{shown}' holds object arrays, which TwinTrain does not load ({exc})") from None
    except Exception as exc:  # a corrupt or non-zip file
        raise _fail(f"'{shown}' is not a readable .npz file ({type(exc).__name__})") from None
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biufUS":
        raise _fail(f"'{shown}': x must be numeric (got {x.dtype}), y numeric or text (got {y.dtype})")
    if len(x) != len(y):
        raise _fail(f"'{shown}': x has {len(x)} samples but y has {len(y)}")
    if x.ndim < 2:
        x = x.reshape(-1, 1)
    x = x.astype(np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise _fail(f"'{shown}': x has a missing or infinite value in sample {row}")
    return x, y


def _targets(x: np.ndarray, labels, task: str, shown: str):
    arr = np.asarray(labels)
    numeric = arr.dtype.kind in "biuf"
    if not numeric:
        try:
            arr = arr.astype(np.float64)
            numeric = True
        except ValueError:
            numeric = False
    if task == "auto":
        task = "classification" if not numeric or np.all(np.mod(arr, 1) == 0) else "regression"
    if task == "regression":
        if not numeric:
            raise _fail(f"'{shown}': regression needs numeric targets", "task")
        y = arr.astype(np.float32).reshape(len(arr), -1)
        if not np.isfinite(y).all():
            raise _fail(f"'{shown}': a target is missing or infinite (sample {int(np.argwhere(~np.isfinite(y))[0][0])})")
        return x, y, task, None
    if numeric:
        if np.any(np.mod(arr, 1) != 0):
            raise _fail(f"'{shown}': class labels must be integers (or set task to regression)", "task")
        y = arr.astype(np.int64).reshape(-1)
        if y.min() < 0:
            raise _fail(f"'{shown}': class label {int(y.min())} is out of range (labels start at 0)")
        n_classes = int(y.max()) + 1
        if n_classes > 10_000:
            raise _fail(f"'{shown}': class label {int(y.max())} is out of range (at most 9999)")
    else:
        names = sorted(set(arr.tolist()))
        index = {n: i for i, n in enumerate(names)}
        y = np.array([index[v] for v in arr.tolist()], dtype=np.int64)
        n_classes = len(names)
    if len(np.unique(y)) < 2:
        raise _fail(f"'{shown}': every sample has the same class ({int(y[0])}); classification needs two or more")
    return x, y, "classification", n_classes
