"""MNIST-1D, generated offline: shape, classes, determinism, speed, and its fit in a project."""

import time

import numpy as np

from engine.data import mnist1d
from engine.data.catalog import describe, resolve
from engine.data.load import generate, load_data
from engine.spec import infer
from engine.spec.project import Project
from tests.conftest import ROOT


def test_templates_are_whitened_and_start_at_zero():
    t = mnist1d.templates()
    assert t.shape == (10, 12)
    assert np.allclose(t[:, 0], 0.0)
    assert np.allclose(t.std(axis=1), 1.0)
    assert len({tuple(np.round(row, 6)) for row in t}) == 10  # ten different digits


def test_same_seed_same_signals_and_another_seed_others():
    d = resolve({"name": "mnist1d", "n_samples": 500})
    x, y = generate(d, seed=3)
    x2, y2 = generate(d, seed=3)
    x3, _ = generate(d, seed=4)
    assert x.shape == (500, 40, 1) and x.dtype == np.float32
    assert y.dtype == np.int64 and np.array_equal(np.bincount(y), [50] * 10)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.allclose(x, x3)
    assert np.isfinite(x).all() and 0.5 < float(x.std()) < 3.0


def test_4000_samples_in_under_a_second():
    d = resolve({"name": "mnist1d"})
    start = time.perf_counter()
    x, _ = generate(d, seed=0)
    assert time.perf_counter() - start < 1.0
    assert x.shape == (4000, 40, 1)


def test_classes_differ_more_than_samples_within_a_class():
    """The signal carries the digit: class means are far apart compared with noise alone."""
    x, y = generate(resolve({"name": "mnist1d", "n_samples": 2000}), seed=0)
    means = np.stack([x[y == k, :, 0].mean(axis=0) for k in range(10)])
    assert np.abs(means[0] - means[1]).max() > 0.3


def test_smoothing_is_a_reflected_gaussian_filter():
    noise = np.zeros((1, 30))
    noise[0, 15] = 1.0
    out = mnist1d._smooth(noise)
    assert np.isclose(out.sum(), 1.0) and out.argmax() == 15
    assert np.isclose(out[0, 14], out[0, 16]) and out[0, 15] < 0.25


def test_describe_and_the_mnist1d_presets_fit():
    info = describe({"name": "mnist1d", "n_samples": 300})
    assert (info.x_shape, info.n_classes, info.n_samples) == ((40, 1), 10, 300)
    for key in ("mnist1d_cnn", "mnist1d_gru"):
        from engine.spec import read_project

        project = read_project(ROOT / "presets" / f"{key}.twintrain.json")
        assert infer(project).errors == []
        assert project.training["dataset"]["name"] == "mnist1d"


def test_load_data_splits_mnist1d():
    from engine.spec import read_project

    project: Project = read_project(ROOT / "presets" / "mnist1d_cnn.twintrain.json")
    data = load_data(project)
    n = project.training["dataset"].get("n_samples", 4000)
    assert len(data.x_train) + len(data.x_val) == n
    assert data.x_train.shape[1:] == (40, 1) and data.n_classes == 10
