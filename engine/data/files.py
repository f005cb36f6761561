"""A user's own data: CSV and NPZ files, read safely and checked before any worker starts.

Paths come from a project file, which may come from anyone: they must be relative to the
project's folder and stay inside it (no absolute paths, no '..', no symlink leading out), and
NPZ files are read without pickle, their array headers checked before any array is allocated.
Every problem is a SpecError naming the file and the row and column (CSV) or the array and
sample (NPZ), raised by ``validate`` and ``twintrain check``, before any worker starts.
"""

from __future__ import annotations

import codecs
import csv
import math
import zipfile
from array import array
from collections.abc import Callable
from pathlib import Path, PurePath, PureWindowsPath
from typing import TYPE_CHECKING

import numpy as np

from engine.spec.errors import SpecError

if TYPE_CHECKING:
    from engine.data.catalog import DatasetInfo

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ARRAY_BYTES = 2 * 1024 * 1024 * 1024  # one decoded NPZ array (a small .npz can inflate a lot)
MAX_CLASSES = 10_000
MISSING_MARKERS = {"na", "n/a", "nan", "null", "none", "?", "-", "--"}

Where = Callable[[int], str]  # sample index -> "row 7, column 'label'" / "y[6]"
# (x, y, task, n_classes or None for regression, a note on the labels or "")
Loaded = tuple[np.ndarray, np.ndarray, str, int | None, str]


def _fail(message: str, field: str = "path") -> SpecError:
    return SpecError(message, field=f"training.dataset.{field}")


def resolve_path(path: str, base_dir: Path | None, *, folder: bool = False) -> Path:
    """The file (or, with ``folder``, the folder) a project's dataset path names, refused when it
    leaves the project's folder."""
    if "\x00" in path:
        raise _fail(f"{path!r} is not a usable file name (it holds a NUL character)")
    pure = PurePath(path)
    win = PureWindowsPath(path)
    if pure.is_absolute() or win.drive or win.root or path.startswith("~"):
        raise _fail(f"'{path}' must be relative to the project file's folder")
    if ".." in pure.parts or ".." in win.parts:
        raise _fail(f"'{path}' leaves the project file's folder ('..' is not allowed)")
    if base_dir is None:
        raise _fail("save the project first: a data file's path is relative to the project file")
    try:
        root = Path(base_dir).resolve()
        full = (root / pure).resolve()
        if root not in full.parents and full != root:
            raise _fail(f"'{path}' resolves outside the project file's folder")
        if folder:
            if not full.is_dir():
                raise _fail(f"data folder '{path}' not found next to the project file")
            return full
        if not full.is_file():
            raise _fail(f"data file '{path}' not found next to the project file")
        size = full.stat().st_size
    except SpecError:
        raise
    except RuntimeError:  # a symlink loop (Python 3.11's resolve)
        raise _fail(f"'{path}' is a symlink loop") from None
    except (OSError, ValueError) as exc:  # a name too long, a permission, ...
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _fail(f"data file '{path}' cannot be opened ({reason})") from None
    if size > MAX_FILE_BYTES:
        raise _fail(f"data file '{path}' is larger than {MAX_FILE_BYTES >> 20} MiB")
    return full


def load_file(
    dataset: dict, base_dir: Path | None
) -> tuple[np.ndarray, np.ndarray, str, int | None]:
    """(x float32, y, task, n_classes) for a resolved csv or npz dataset section."""
    x, y, task, n_classes, _note = _load(dataset, base_dir)
    return x, y, task, n_classes


def describe_file(dataset: dict, base_dir: Path | None) -> DatasetInfo:
    from engine.data.catalog import DatasetInfo

    x, y, task, n_classes, note = _load(dataset, base_dir)
    y_shape = () if task == "classification" else tuple(y.shape[1:])
    return DatasetInfo(
        dataset["name"], tuple(x.shape[1:]), task, n_classes, y_shape, len(x), label_note=note
    )


def _load(dataset: dict, base_dir: Path | None) -> Loaded:
    full = resolve_path(dataset["path"], base_dir)
    shown = dataset["path"]
    labels: list[str] | np.ndarray
    if dataset["name"] == "csv":
        target = dataset["target"]
        x, labels, lines = _read_csv(full, target, shown)

        def where(i: int) -> str:
            return f"'{shown}' row {lines[i]}, column '{target}'"

        column = f"column '{target}' of '{shown}'"
    else:
        x, labels = _read_npz(full, shown)

        def where(i: int) -> str:
            return f"'{shown}' y[{i}]"

        column = f"y of '{shown}'"
    return _targets(x, labels, dataset["task"], where, column)


# ---- CSV ---------------------------------------------------------------------------------------


def _read_csv(full: Path, target: str, shown: str) -> tuple[np.ndarray, list[str], array]:
    """Features (float32), labels (text) and each data row's line number, streamed row by row so
    a big file costs four bytes per value, not a Python object per cell."""
    values = array("f")
    labels: list[str] = []
    lines = array("l")
    distinct: dict[str, str] = {}  # one string object per distinct label
    header: list[str] | None = None
    t = 0
    features: list[int] = []
    try:
        with open(full, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            for row in reader:
                if not any(c.strip() for c in row):
                    continue
                line = reader.line_num
                if header is None:
                    header = [h.strip() for h in row]
                    if target not in header:
                        raise _fail(
                            f"'{shown}' has no column '{target}' "
                            f"(columns: {', '.join(header[:20])})",
                            "target",
                        )
                    t = header.index(target)
                    features = [i for i in range(len(header)) if i != t]
                    if not features:
                        raise _fail(f"'{shown}' has no feature columns besides '{target}'")
                    continue
                if len(row) != len(header):
                    raise _fail(
                        f"'{shown}' row {line} has {len(row)} values, "
                        f"the header (row 1) has {len(header)}"
                    )
                for i in features:
                    values.append(_cell(row[i], shown, line, header[i]))
                label = row[t].strip()
                if not label:
                    raise _fail(
                        f"'{shown}' row {line}, column '{target}' is empty (missing label)",
                        "target",
                    )
                labels.append(distinct.setdefault(label, label))
                lines.append(line)
    except UnicodeDecodeError:
        offset, line = _first_bad_utf8(full)
        with open(full, "rb") as fh:
            utf16 = fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        kind = "it is UTF-16" if utf16 else f"row {line}: byte {offset} cannot be decoded"
        raise _fail(f"'{shown}' is not UTF-8 text ({kind}); save it as UTF-8") from None
    except csv.Error as exc:
        raise _fail(f"'{shown}' row {reader.line_num} is not valid CSV ({exc})") from None
    except OSError as exc:
        raise _fail(f"'{shown}' cannot be read ({exc.strerror or exc})") from None
    if header is None or not labels:
        raise _fail(f"'{shown}' needs a header row and at least one data row")
    x = np.frombuffer(values, dtype=np.float32).reshape(len(labels), len(features)).copy()
    return x, labels, lines


def _cell(cell: str, shown: str, line: int, column: str) -> float:
    text = cell.strip()
    try:
        value = float(text)
    except ValueError:
        if not text:
            what = "is empty (missing value)"
        elif text.lower() in MISSING_MARKERS:
            what = f"is '{text}' (a missing value)"
        else:
            what = f"is not a number ('{_short(text)}')"
        raise _fail(f"'{shown}' row {line}, column '{column}' {what}") from None
    if not math.isfinite(value):
        what = "is missing (NaN)" if math.isnan(value) else f"is not finite ({_short(text)})"
        raise _fail(f"'{shown}' row {line}, column '{column}' {what}")
    if abs(value) > 3.4e38:
        raise _fail(
            f"'{shown}' row {line}, column '{column}' is too large for float32 ({_short(text)})"
        )
    return value


def _first_bad_utf8(full: Path) -> tuple[int, int]:
    """(byte offset, line number) of the first byte that is not UTF-8, read in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    with open(full, "rb") as fh:
        while chunk := fh.read(1 << 16):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # the decoder may hold up to 3 bytes of an unfinished character from before
                held = len(decoder.getstate()[0])
                start = max(exc.start - held, 0)
                return offset + start, line + chunk[:start].count(b"\n")
            offset += len(chunk)
            line += chunk.count(b"\n")
    return offset, line


# ---- NPZ ---------------------------------------------------------------------------------------


def _check_npz_headers(full: Path, shown: str) -> None:
    """Refuse before loading: not a zip, missing arrays, object/structured dtypes, and arrays
    whose header promises more than the archive holds or more than MAX_ARRAY_BYTES."""
    try:
        with zipfile.ZipFile(full) as zf:
            names = {n[:-4] if n.endswith(".npy") else n: n for n in zf.namelist()}
            missing = [k for k in ("x", "y") if k not in names]
            if missing:
                raise _fail(
                    f"'{shown}' lacks array(s) {', '.join(missing)} "
                    f"(it has: {', '.join(sorted(names)[:20]) or 'none'})"
                )
            for key in ("x", "y"):
                member = zf.getinfo(names[key])
                with zf.open(member) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
                    else:
                        raise _fail(
                            f"'{shown}': array {key} uses .npy format {version}, "
                            "which TwinTrain does not read"
                        )
                    header_end = fh.tell()
                if dtype.hasobject or dtype.names is not None:
                    raise _fail(
                        f"'{shown}': array {key} holds Python objects or records ({dtype}); "
                        "TwinTrain loads only "
                        "plain numeric or text arrays (never pickled data)"
                    )
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > MAX_ARRAY_BYTES:
                    raise _fail(
                        f"'{shown}': array {key} of shape {tuple(shape)} "
                        f"would take {nbytes / 2**30:.1f} GiB; "
                        f"at most {MAX_ARRAY_BYTES >> 30} GiB per array"
                    )
                if nbytes > member.file_size - header_end:
                    raise _fail(
                        f"'{shown}': array {key} is truncated "
                        f"(its header says {tuple(shape)} {dtype})"
                    )
    except SpecError:
        raise
    except zipfile.BadZipFile:
        raise _fail(
            f"'{shown}' is not a .npz file (not a zip archive; save it with numpy.savez)"
        ) from None
    except Exception as exc:  # a corrupt header or archive member
        raise _fail(
            f"'{shown}' is not a readable .npz file ({type(exc).__name__}: {str(exc)[:80]})"
        ) from None


def _read_npz(full: Path, shown: str) -> tuple[np.ndarray, np.ndarray]:
    _check_npz_headers(full, shown)
    try:
        with np.load(full, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    except ValueError as exc:
        raise _fail(
            f"'{shown}' holds object arrays, which TwinTrain does not load ({exc})"
        ) from None
    except Exception as exc:  # a corrupt member (bad CRC, truncated deflate stream)
        raise _fail(f"'{shown}' is not a readable .npz file ({type(exc).__name__})") from None
    if x.dtype.kind not in "biuf":
        raise _fail(f"'{shown}': x must be numeric (got {x.dtype})")
    if y.dtype.kind not in "biufUS":
        raise _fail(f"'{shown}': y must be numbers or text (got {y.dtype})")
    if x.ndim == 0 or y.ndim == 0:
        raise _fail(
            f"'{shown}': x and y must be arrays with one entry per sample "
            f"(got shapes {x.shape} and {y.shape})"
        )
    if len(x) != len(y):
        raise _fail(f"'{shown}': x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise _fail(f"'{shown}' holds no samples (x and y are empty)")
    if x.ndim < 2:
        x = x.reshape(-1, 1)
    if x.dtype.kind == "f" and x.dtype.itemsize > 4 and np.any(np.abs(x[np.isfinite(x)]) > 3.4e38):
        index = np.argwhere(np.isfinite(x) & (np.abs(x) > 3.4e38))[0]
        raise _fail(f"'{shown}': x[{', '.join(map(str, index))}] is too large for float32")
    x = x.astype(np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        index = np.argwhere(bad)[0]
        raise _fail(
            f"'{shown}': x[{', '.join(map(str, index))}] "
            f"(sample {int(index[0])}) is missing or infinite"
        )
    return x, y


# ---- targets -----------------------------------------------------------------------------------

LABEL_MISSING = {"", "na", "n/a", "nan", "null"}


def _targets(
    x: np.ndarray, labels: list[str] | np.ndarray, task: str, where: Where, column: str
) -> Loaded:
    """(x, y, task, n_classes, note): labels checked and turned into class indices or float
    targets; the note says where the largest numeric class label is (for a model too small)."""
    n = len(labels)
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "biuf":
        values = labels.reshape(n, -1).astype(np.float64)
    else:
        if isinstance(labels, np.ndarray):
            per = labels.reshape(n, -1)
            if per.shape[1] != 1:
                raise _fail(
                    f"{column} has {per.shape[1]} values per sample; give one label per sample",
                    "task",
                )
            labels = [_text(v) for v in per[:, 0].tolist()]
        texts: list[str] = labels
        for i, t in enumerate(texts):
            if t.strip().lower() in LABEL_MISSING:
                raise _fail(f"{where(i)} is '{t}' (a missing label)", "target")
        parsed = [_float_or_none(t) for t in texts]
        text_at = [i for i, v in enumerate(parsed) if v is None]
        if not text_at:
            values = np.array(parsed, dtype=np.float64).reshape(n, 1)
        elif task == "regression" or (task == "auto" and 2 * len(text_at) < n):
            i = text_at[0]
            hint = (
                ""
                if task == "regression"
                else ", or set task to classification to use the labels as class names"
            )
            raise _fail(
                f"{where(i)} is not a number ('{_short(texts[i])}') "
                "while the other labels are numbers; "
                f"fix that value{hint}",
                "task" if task == "regression" else "target",
            )
        else:
            names = sorted(set(texts))
            index = {name: k for k, name in enumerate(names)}
            y = np.fromiter((index[t] for t in texts), dtype=np.int64, count=n)
            return (*_enough_classes(x, y, len(names), column, names[0]), "")
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        i = int(bad[0])
        raise _fail(
            f"{where(i)} is missing or not finite ({values[i][~np.isfinite(values[i])][0]})"
        )
    per_sample = values.shape[1]
    whole = bool(np.all(np.mod(values, 1) == 0))
    if task == "auto":
        if per_sample > 1 and whole:
            raise _fail(
                f"{column} has {per_sample} values per sample, "
                "all integers (one-hot or multi-label?); "
                "for classes give one label per sample (e.g. y.argmax(axis=1)), "
                "or set task to regression",
                "task",
            )
        task = "classification" if whole else "regression"
    if task == "regression":
        return x, values.astype(np.float32), task, None, ""
    if per_sample != 1:
        raise _fail(
            f"{column} has {per_sample} values per sample; "
            "class labels must be one integer per sample "
            "(e.g. y.argmax(axis=1) for one-hot labels), or set task to regression",
            "task",
        )
    flat = values[:, 0]
    fractional = np.flatnonzero(np.mod(flat, 1) != 0)
    if len(fractional):
        i = int(fractional[0])
        raise _fail(
            f"{where(i)} is {flat[i]:g}: class labels must be integers 0, 1, 2, ... "
            "(or set task to regression)",
            "task",
        )
    negative = np.flatnonzero(flat < 0)
    if len(negative):
        i = int(negative[0])
        raise _fail(
            f"{where(i)} is class label {int(flat[i])}, out of range: class labels start at 0"
        )
    big = np.flatnonzero(flat >= MAX_CLASSES)
    if len(big):
        i = int(big[0])
        raise _fail(
            f"{where(i)} is class label {flat[i]:.0f}, out of range (at most {MAX_CLASSES - 1})"
        )
    y = flat.astype(np.int64)
    top = int(np.argmax(y))
    note = f"the largest class label, {int(y[top])}, is at {where(top)}"
    return (*_enough_classes(x, y, int(y[top]) + 1, column, int(y[0])), note)


def _enough_classes(
    x: np.ndarray, y: np.ndarray, n_classes: int, column: str, first: object
) -> tuple[np.ndarray, np.ndarray, str, int]:
    if not np.any(y != y[0]):
        raise _fail(
            f"every sample in {column} has the same class ({_short(first)}); classification needs "
            "two or more classes"
        )
    return x, y, "classification", n_classes


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _short(value: object) -> str:
    """A value as shown in a message: at most 20 characters, control characters escaped."""
    text = _text(value)
    text = text if len(text) <= 20 else text[:20] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
