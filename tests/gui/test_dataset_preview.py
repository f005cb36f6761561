"""The Inspector's dataset preview, driven through the real window: an image folder shows a grid
per class with the counts, a text CSV its rows, MNIST-1D a plot of signals, a table its
columns; a dataset that cannot be read says why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6.QtWidgets import QLabel, QMessageBox, QTableWidget

from engine.presets import preset_path

SHAPES = Path(__file__).resolve().parent.parent / "data" / "shapes"


def _preview(win, qtbot):
    win.inspector.show_selection([], [])  # nothing selected: the project form
    preview = win.inspector.form.preview
    qtbot.waitUntil(lambda: not preview.busy, timeout=30_000)
    return preview


def _open(win, path: Path) -> None:
    win.ask = lambda *_args: QMessageBox.StandardButton.Discard
    assert win.open_path(path, ask=False)


def test_an_image_folder_shows_its_classes_counts_and_images(win, qtbot, tmp_path):
    shutil.copytree(SHAPES, tmp_path / "shapes")
    doc = json.loads(preset_path("digits_cnn").read_text(encoding="utf-8"))
    doc["model"]["input"]["shape"] = [16, 16, 1]
    doc["training"]["dataset"] = {
        "name": "image_folder",
        "path": "shapes",
        "size": [16, 16],
        "color": "grayscale",
    }
    project = tmp_path / "shapes.twintrain.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    _open(win, project)
    preview = _preview(win, qtbot)
    assert preview.error is None
    text = preview.summary.text()
    assert text.startswith("24 samples (19 train, 5 validation), 16×16×1 each")
    assert "3 classes: circle: 8, square: 8, triangle: 8" in text
    names = [w.text() for w in preview.body.findChildren(QLabel) if not w.pixmap().width()]
    assert names == ["circle", "square", "triangle"]
    thumbs = preview.body.findChildren(QLabel, "PreviewImage")
    assert len(thumbs) == 18  # six per class
    assert thumbs[0].pixmap().height() == 32 and "16×16, grayscale" in thumbs[0].toolTip()
    # A folder that is not there: the preview says why, in one line, and shows no samples.
    win.doc.set_training(("dataset", "path"), "no_such_folder")
    preview = _preview(win, qtbot)
    assert preview.summary.text().startswith("No preview: ")
    assert "no_such_folder" in preview.summary.text()
    assert not preview.body.findChildren(QLabel, "PreviewImage")


def test_text_signals_and_tables_each_show_their_samples(win, qtbot):
    _open(win, preset_path("topics_embedding"))
    preview = _preview(win, qtbot)
    assert "3 classes: food: 160, sport: 160, weather: 160" in preview.summary.text()
    (rows,) = preview.body.findChildren(QTableWidget, "PreviewRows")
    assert rows.rowCount() == 6 and rows.horizontalHeaderItem(1).text() == "text"
    assert rows.item(0, 1).text() == "Tonight the curry baked with garlic."

    win.doc.set_dataset("mnist1d")  # the same project, another dataset: previewed anew
    preview = _preview(win, qtbot)
    assert preview.preview.kind == "signals"
    assert "40×1 each" in preview.summary.text()
    (plot,) = preview.body.findChildren(QLabel, "PreviewPlot")
    image = plot.pixmap().toImage()
    assert image.width() == 260
    colours = {image.pixelColor(x, y).name() for x in range(0, 260, 2) for y in range(0, 110, 2)}
    assert len(colours) > 3  # lines drawn, not a blank box

    _open(win, preset_path("iris_logreg"))
    preview = _preview(win, qtbot)
    (rows,) = preview.body.findChildren(QTableWidget, "PreviewRows")
    headers = [rows.horizontalHeaderItem(c).text() for c in range(rows.columnCount())]
    assert headers == ["x0", "x1", "x2", "x3", "target"]
    assert rows.item(0, 0).text() == "5.1"
