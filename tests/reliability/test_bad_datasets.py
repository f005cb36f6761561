"""Broken CSV and NPZ datasets: each is refused by `twintrain check` and `engine.spec.validate`
with one line naming the file and the row and column (CSV) or the array and sample (NPZ),
before any worker starts; `twintrain train` refuses them without starting a process or
creating a run folder. NPZ files are never unpickled.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.spec import SpecError, read_project, validate
from tests.reliability.conftest import live_children

GOOD_ROWS = ["a,b,label", "0.5,1.5,0", "1.0,2.0,1", "1.5,2.5,0", "2.0,3.0,1"]


def csv_text(*changes: tuple[int, str]) -> str:
    """The good table with some lines replaced (line numbers as a text editor shows them)."""
    rows = list(GOOD_ROWS)
    for line, text in changes:
        if line > len(rows):
            rows.append(text)
        else:
            rows[line - 1] = text
    return "\n".join(rows) + "\n"


class Pwn:
    """Unpickling this would create a file: proof that TwinTrain never unpickles."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npz_with_header(shape: tuple[int, ...], payload: bytes) -> bytes:
    """An archive whose x.npy header promises ``shape`` float32 but holds ``payload``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            head, {"descr": "<f4", "fortran_order": False, "shape": shape}
        )
        zf.writestr("x.npy", head.getvalue() + payload)
        y = io.BytesIO()
        np.lib.format.write_array(y, np.arange(4) % 2)
        zf.writestr("y.npy", y.getvalue())
    return out.getvalue()


X = np.array([[0.5, 1.5], [1.0, 2.0], [1.5, 2.5], [2.0, 3.0]], dtype=np.float32)
Y = np.array([0, 1, 0, 1])
X_NAN = X.copy()
X_NAN[2, 1] = np.nan

# (case, data file name, contents, extra dataset keys, substrings of the one-line message)
CASES = [
    (
        "csv-missing-value",
        "data.csv",
        csv_text((3, "1.0,,1")),
        {},
        ["'data.csv' row 3, column 'b' is empty (missing value)"],
    ),
    (
        "csv-na-marker",
        "data.csv",
        csv_text((4, "NA,2.5,0")),
        {},
        ["'data.csv' row 4, column 'a' is 'NA' (a missing value)"],
    ),
    (
        "csv-nan-cell",
        "data.csv",
        csv_text((2, "nan,1.5,0")),
        {},
        ["'data.csv' row 2, column 'a' is missing (NaN)"],
    ),
    (
        "csv-string-in-numeric",
        "data.csv",
        csv_text((5, "2.0,three,1")),
        {},
        ["'data.csv' row 5, column 'b' is not a number ('three')"],
    ),
    (
        "csv-one-class",
        "data.csv",
        "a,b,label\n1,2,1\n3,4,1\n5,6,1\n",
        {},
        [
            "every sample in column 'label' of 'data.csv' has the same class (1)",
            "two or more classes",
        ],
    ),
    (
        "csv-negative-label",
        "data.csv",
        csv_text((4, "1.5,2.5,-1")),
        {},
        [
            "'data.csv' row 4, column 'label' is class label -1, out of range: "
            "class labels start at 0"
        ],
    ),
    (
        "csv-label-above-model",
        "data.csv",
        csv_text((3, "1.0,2.0,5")),
        {},
        [
            "output 'out' has shape [2]",
            "needs [6]",
            "the largest class label, 5, is at 'data.csv' row 3, column 'label'",
        ],
    ),
    (
        "csv-fractional-class",
        "data.csv",
        csv_text((2, "0.5,1.5,0.5")),
        {"task": "classification"},
        ["'data.csv' row 2, column 'label' is 0.5: class labels must be integers"],
    ),
    (
        "csv-text-in-target",
        "data.csv",
        csv_text((3, "1.0,2.0,oops")),
        {},
        [
            "'data.csv' row 3, column 'label' is not a number ('oops') "
            "while the other labels are numbers"
        ],
    ),
    (
        "csv-text-regression",
        "data.csv",
        csv_text((5, "2.0,3.0,?")),
        {"task": "regression"},
        ["'data.csv' row 5, column 'label' is not a number ('?')"],
    ),
    (
        "csv-missing-label",
        "data.csv",
        csv_text((3, "1.0,2.0,")),
        {},
        ["'data.csv' row 3, column 'label' is empty (missing label)"],
    ),
    (
        "csv-ragged-row",
        "data.csv",
        csv_text((4, "1.5,2.5")),
        {},
        ["'data.csv' row 4 has 2 values, the header (row 1) has 3"],
    ),
    (
        "csv-no-target-column",
        "data.csv",
        csv_text(),
        {"target": "class"},
        ["'data.csv' has no column 'class' (columns: a, b, label)"],
    ),
    (
        "csv-latin-1",
        "data.csv",
        csv_text((4, "1.5,2.5,caf\u00e9")).encode("latin-1"),
        {},
        ["'data.csv' is not UTF-8 text (row 4: byte", "save it as UTF-8"],
    ),
    (
        "csv-utf-16",
        "data.csv",
        csv_text().encode("utf-16"),
        {},
        ["'data.csv' is not UTF-8 text (it is UTF-16)"],
    ),
    (
        "csv-huge-field",
        "data.csv",
        csv_text((3, "1.0," + "9" * 200_000 + ",1")),
        {},
        ["'data.csv' row 3 is not valid CSV (field larger than field limit"],
    ),
    (
        "csv-binary",
        "data.csv",
        bytes(range(256)) * 8,
        {},
        ["'data.csv' is not UTF-8 text (row 2: byte 128"],
    ),
    (
        "csv-header-only",
        "data.csv",
        "a,b,label\n",
        {},
        ["'data.csv' needs a header row and at least one data row"],
    ),
    (
        "npz-length-mismatch",
        "data.npz",
        npz_bytes(x=X, y=Y[:3]),
        {},
        ["'data.npz': x has 4 samples but y has 3"],
    ),
    (
        "npz-nan-in-x",
        "data.npz",
        npz_bytes(x=X_NAN, y=Y),
        {},
        ["'data.npz': x[2, 1] (sample 2) is missing or infinite"],
    ),
    (
        "npz-nan-label",
        "data.npz",
        npz_bytes(x=X, y=np.array([0.0, 1.0, np.nan, 1.0])),
        {},
        ["'data.npz' y[2] is missing or not finite (nan)"],
    ),
    (
        "npz-negative-label",
        "data.npz",
        npz_bytes(x=X, y=np.array([0, 1, -3, 1])),
        {},
        ["'data.npz' y[2] is class label -3, out of range: class labels start at 0"],
    ),
    (
        "npz-one-class",
        "data.npz",
        npz_bytes(x=X, y=np.zeros(4, dtype=np.int64)),
        {},
        ["every sample in y of 'data.npz' has the same class (0)"],
    ),
    (
        "npz-one-hot",
        "data.npz",
        npz_bytes(x=X, y=np.eye(2, dtype=np.int64)[Y]),
        {},
        ["y of 'data.npz' has 2 values per sample, all integers (one-hot or multi-label?)"],
    ),
    (
        "npz-empty",
        "data.npz",
        npz_bytes(x=np.zeros((0, 2)), y=np.zeros(0)),
        {},
        ["'data.npz' holds no samples"],
    ),
    (
        "npz-scalar",
        "data.npz",
        npz_bytes(x=np.float32(1), y=np.float32(0)),
        {},
        ["'data.npz': x and y must be arrays with one entry per sample"],
    ),
    (
        "npz-missing-y",
        "data.npz",
        npz_bytes(x=X, labels=Y),
        {},
        ["'data.npz' lacks array(s) y (it has: labels, x)"],
    ),
    (
        "npz-text-x",
        "data.npz",
        npz_bytes(x=np.array([["a", "b"]] * 4), y=Y),
        {},
        ["'data.npz': x must be numeric (got <U1)"],
    ),
    (
        "npz-not-a-zip",
        "data.npz",
        b"\x93NUMPY" + b"\x00" * 200,
        {},
        ["'data.npz' is not a .npz file (not a zip archive"],
    ),
    (
        "npz-header-bomb",
        "data.npz",
        npz_with_header((2**35,), b"\x00" * 64),
        {},
        [
            "'data.npz': array x of shape (34359738368,) would take 128.0 GiB; "
            "at most 2 GiB per array"
        ],
    ),
    (
        "npz-truncated",
        "data.npz",
        npz_with_header((1000, 2), b"\x00" * 64),
        {},
        ["'data.npz': array x is truncated (its header says (1000, 2) float32)"],
    ),
]


def write_case(folder: Path, file: str, content, extra: dict) -> Path:
    data = folder / file
    data.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    dataset = (
        {"name": "csv", "path": file, "target": "label"}
        if file.endswith(".csv")
        else {"name": "npz", "path": file}
    )
    dataset.update(extra)
    doc = {
        "format": "twintrain/1",
        "model": {"input": {"shape": [2]}, "layers": [{"id": "out", "type": "Dense", "units": 2}]},
        "training": {"dataset": dataset, "epochs": 1},
    }
    path = folder / "project.twintrain.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("name,file,content,extra,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_dataset_is_named_by_check_and_validate(
    tmp_path, capsys, name, file, content, extra, expected
):
    path = write_case(tmp_path, file, content, extra)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"twintrain: {path}")
    for part in expected:
        assert part in err, f"{part!r} not in {err!r}"
    with pytest.raises(SpecError) as info:
        validate(read_project(path))
    for part in expected:
        assert part in str(info.value)
    assert info.value.field.startswith("training.")


@pytest.mark.parametrize(
    "name,file,content,extra,expected", [CASES[0], CASES[5], CASES[18]], ids=["csv", "label", "npz"]
)
def test_train_refuses_before_any_worker_starts(
    tmp_path, capsys, name, file, content, extra, expected
):
    path = write_case(tmp_path, file, content, extra)
    out = tmp_path / "run"
    assert main(["train", str(path), "--out", str(out), "--quiet"]) == 1
    assert expected[0] in capsys.readouterr().err
    assert not out.exists()
    assert live_children() == []


def test_good_files_still_load(tmp_path):
    """The checks refuse the broken files, not good ones: text classes, numeric labels as text,
    regression targets, a UTF-8 BOM, blank lines, 1-D x, text y."""
    for file, content, shape, task, classes in [
        ("data.csv", csv_text(), [2], "classification", 2),
        (
            "data.csv",
            "\ufeff"
            + csv_text((2, "0.5,1.5,cat"), (3, "1.0,2.0,dog"), (4, "1.5,2.5,cat"), (5, "2,3,emu"))
            + "\n\n",
            [2],
            "classification",
            3,
        ),
        ("data.csv", csv_text((2, "0.5,1.5,0.25")), [2], "regression", None),
        ("data.npz", npz_bytes(x=X, y=Y.astype(np.float64)), [2], "classification", 2),
        (
            "data.npz",
            npz_bytes(x=X[:, 0], y=np.array(["b", "a", "b", "a"])),
            [1],
            "classification",
            2,
        ),
    ]:
        path = write_case(tmp_path, file, content, {})
        project = read_project(path)
        project.input_shape = shape
        project.layers[0].params["units"] = classes or 1
        if task == "regression":
            project.training["loss"] = "mse"
        graph = validate(project)
        assert (graph.dataset.task, graph.dataset.n_classes, graph.dataset.n_samples) == (
            task,
            classes,
            4,
        )


def test_pickled_object_arrays_are_refused_and_never_unpickled(tmp_path, capsys):
    marker = tmp_path / "unpickled"
    y = np.empty(4, dtype=object)
    y[:] = [Pwn(str(marker))] * 4
    assert (
        pickle.loads(pickle.dumps(Pwn(str(tmp_path / "probe")))) is None
        and (tmp_path / "probe").exists()
    )
    path = write_case(tmp_path, "data.npz", npz_bytes(x=X, y=y), {})
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "'data.npz': array y holds Python objects or records (object)" in err
    assert "never pickled data" in err
    assert not marker.exists()
    # the same with x: object arrays anywhere in the archive are refused
    x = np.empty((4, 2), dtype=object)
    x[:] = Pwn(str(marker))
    path = write_case(tmp_path, "data.npz", npz_bytes(x=x, y=Y), {})
    assert main(["check", str(path)]) == 1
    assert "array x holds Python objects" in capsys.readouterr().err
    assert not marker.exists()
