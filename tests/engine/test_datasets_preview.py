"""engine.data.preview: what the Inspector shows of a dataset, with numpy only: the split and
class counts training uses, images per class in their own colours, a CSV's column names, text
rows as written, signals; and the loader's own one-line error for a dataset it cannot read."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.data import images
from engine.data.load import load_data
from engine.data.preview import PER_CLASS, preview
from engine.presets import load_project_arg
from engine.spec.errors import SpecError

SHAPES = Path(__file__).resolve().parent.parent / "data" / "shapes"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINTRAIN_DATA_DIR", str(tmp_path / "app"))


def test_the_split_and_counts_are_those_training_gets():
    project = load_project_arg("digits_cnn")
    p = preview(project.training, project.base_dir)
    data = load_data(project)
    assert (p.n_train, p.n_val) == (len(data.x_train), len(data.x_val))
    assert p.n_samples == p.n_train + p.n_val == 1797
    counts = np.bincount(np.concatenate([data.y_train, data.y_val]))
    assert p.class_counts == [(str(c), int(n)) for c, n in enumerate(counts)]
    assert p.kind == "images" and len(p.images) == 10
    label, first = p.images[3]
    assert label == "3" and len(first) == PER_CLASS
    assert first[0].dtype == np.uint8 and first[0].shape == (8, 8, 1)


def test_image_folder_keeps_its_colours(tmp_path):
    shutil.copytree(SHAPES, tmp_path / "shapes")
    training = {"dataset": {"name": "image_folder", "path": "shapes", "size": [12, 12]}}
    p = preview(training, tmp_path)
    assert [name for name, _ in p.images] == ["circle", "square", "triangle"]
    assert p.class_counts == [("circle", 8), ("square", 8), ("triangle", 8)]
    image = p.images[0][1][0]
    assert image.shape == (12, 12, 3)
    # pixels scaled from [0, 1] to 0..255 as they are, not stretched per image
    ds = {"name": "image_folder", "path": "shapes", "size": [12, 12]}
    x, y, _ = images.load({**ds, "color": "rgb", "max_per_class": None}, tmp_path)
    np.testing.assert_array_equal(image, np.round(x[np.flatnonzero(y == 0)[0]] * 255))
    assert "3 classes: circle: 8, square: 8, triangle: 8" in p.summary()


def test_a_csv_shows_its_own_column_names(tmp_path):
    rows = ["height,weight,label"] + [f"{i},{i * 2},{i % 2}" for i in range(10)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    training = {"dataset": {"name": "csv", "path": "t.csv", "target": "label"}}
    p = preview(training, tmp_path)
    assert p.kind == "table" and p.header == ["height", "weight", "target"]
    assert p.rows[0] == ["0", "0", "0"] and p.rows[3] == ["3", "6", "1"]


def test_text_rows_signals_and_regression_targets():
    topics = load_project_arg("topics_embedding")
    p = preview(topics.training, topics.base_dir)
    assert p.kind == "text" and p.header == ["topic", "text"]
    assert p.rows[0] == ["food", "Tonight the curry baked with garlic."]
    sine = load_project_arg("sine_gru")
    p = preview(sine.training, sine.base_dir)
    assert p.kind == "signals" and p.class_counts == []
    low, high = p.target_range
    assert -1.5 < low < 0 < high < 1.5
    assert p.signals[0][1].shape == (20, 1)
    assert "target from" in p.summary()


def test_a_dataset_that_cannot_be_read_raises_the_loaders_error(tmp_path):
    training = {"dataset": {"name": "image_folder", "path": "missing"}}
    with pytest.raises(SpecError, match="missing"):
        preview(training, tmp_path)
