"""sklearn's bundled datasets read without importing sklearn: the same arrays as sklearn's loaders,
and a fallback to sklearn when the files are not found."""

import subprocess
import sys

import numpy as np
import pytest
import sklearn.datasets as skd

from engine.data import sklearn_files
from engine.data.load import generate


@pytest.mark.parametrize("name", sklearn_files.SUPPORTED)
def test_read_equals_sklearn(name):
    bunch = getattr(skd, f"load_{name}")()
    x, y = sklearn_files.read(name)
    assert x.dtype == bunch.data.dtype and y.dtype == bunch.target.dtype
    assert np.array_equal(x, bunch.data) and np.array_equal(y, bunch.target)


def test_missing_files_fall_back_to_sklearn(tmp_path, monkeypatch):
    assert sklearn_files.read("diabetes") is None  # not read directly: sklearn scales it
    monkeypatch.setattr(sklearn_files, "_data_dir", lambda: tmp_path)  # a folder without the files
    assert sklearn_files.read("digits") is None and sklearn_files.read("iris") is None
    x, y = generate({"name": "digits"}, seed=0)
    assert x.shape == (1797, 8, 8, 1) and np.array_equal(y, skd.load_digits().target)


def test_digits_load_without_importing_sklearn():
    code = (
        "import sys; from engine.data.load import generate; "
        "x, y = generate({'name': 'digits'}, 0); "
        "print(x.shape, int(y.sum()), 'sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == [
        "(1797,",
        "8,",
        "8,",
        "1)",
        str(int(skd.load_digits().target.sum())),
        "False",
    ]
