"""The Inspector's dataset preview: shape, split and class counts, then a few samples (a grid of
images per class, rows of a table or of text, a plot of a few signals).

The figures come from engine.data.preview, computed in a background thread (an image folder is
decoded the first time) and only when the dataset section, the seed or the project's folder
changed; a dataset that cannot be read shows why, in one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.tasks import Task, run_in_background

THUMB_PX = 32  # an image sample's side on screen
PLOT_SIZE = (260, 110)  # the signals plot, px
DEBOUNCE_MS = 250  # typing a size or a path: preview once the user pauses
# Distinct line colours for the plotted signals (Okabe-Ito, readable by colour-blind users).
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def thumbnail(pixels: np.ndarray, side: int = THUMB_PX) -> QPixmap:
    """An H x W x C uint8 image (C 1 or 3) as a pixmap ``side`` px tall; small images are
    scaled without smoothing, so 8x8 digits stay crisp pixels."""
    h, w, c = pixels.shape
    fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
    data = np.ascontiguousarray(pixels[..., 0] if c == 1 else pixels[..., :3])
    image = QImage(data.data, w, h, data.strides[0], fmt).copy()  # own the bytes
    mode = (
        Qt.TransformationMode.FastTransformation
        if h < side
        else Qt.TransformationMode.SmoothTransformation
    )
    return QPixmap.fromImage(image).scaledToHeight(side, mode)


def signals_plot(
    signals: list[tuple[str, np.ndarray]], size: tuple[int, int] = PLOT_SIZE
) -> QPixmap:
    """Each sequence's first channel against its time step, one colour each, on one scale."""
    width, height = size
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor("white"))
    values = [np.asarray(s[:, 0] if s.ndim == 2 else s, dtype=np.float64) for _, s in signals]
    if not values:
        return pixmap
    low = min(float(v.min()) for v in values)
    high = max(float(v.max()) for v in values)
    span = high - low or 1.0
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#cccccc"), 1))
    painter.drawRect(0, 0, width - 1, height - 1)
    pad = 4
    for k, v in enumerate(values):
        path = QPainterPath()
        for i, value in enumerate(v):
            x = pad + (width - 2 * pad) * (i / max(len(v) - 1, 1))
            y = pad + (height - 2 * pad) * (1 - (value - low) / span)
            if i == 0:
                path.moveTo(QPointF(x, y))
            else:
                path.lineTo(QPointF(x, y))
        painter.setPen(QPen(QColor(LINE_COLOURS[k % len(LINE_COLOURS)]), 1.4))
        painter.drawPath(path)
    painter.end()
    return pixmap


class DatasetPreview(QWidget):
    """Shows the preview of the project's dataset; ``show_for`` is cheap when nothing changed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DatasetPreview")
        self.key: str | None = None  # the dataset section, seed and folder shown (or asked for)
        self.preview: Any = None  # the engine.data.preview.Preview shown
        self.error: str | None = None
        self.task: Task | None = None
        self._pending: tuple[dict, Path | None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self.box = box = QVBoxLayout(self)
        box.setContentsMargins(0, 4, 0, 0)
        self.summary = QLabel("")
        self.summary.setObjectName("Stats")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.summary)
        self.body = QWidget()
        box.addWidget(self.body)

    def show_for(self, training: dict, base_dir: Path | None) -> None:
        """Preview this training section's dataset (after a short pause, in the background)."""
        key = json.dumps(
            [training.get("dataset"), training.get("seed"), str(base_dir or "")],
            sort_keys=True,
            default=str,
        )
        if key == self.key:
            return
        self.key = key
        self._pending = (json.loads(json.dumps(training, default=str)), base_dir)
        self.summary.setText("Reading the dataset…")
        self._timer.start()

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or self.task is not None

    def _start(self) -> None:
        if self.task is not None:  # one at a time: the newest request runs when this one ends
            return
        assert self._pending is not None
        training, base_dir = self._pending
        key = self.key

        def work(task):
            from engine.data.preview import preview

            return preview(training, base_dir, cancelled=lambda: task.cancelled)

        self.task = run_in_background(
            work,
            on_result=lambda p: self._done(key, p, None),
            on_error=lambda exc, _tb: self._done(key, None, str(exc)),
            parent=self,
            name="dataset-preview",
        )

    def _done(self, key: str | None, preview: Any, error: str | None) -> None:
        self.task = None
        if key != self.key:  # the dataset changed meanwhile: preview the newest
            self._start()
            return
        self.preview, self.error = preview, error
        self._clear_body()
        if error is not None:
            self.summary.setText(f"No preview: {error}")
            return
        self.summary.setText(preview.summary())
        {"images": self._images, "signals": self._signals}.get(preview.kind, self._rows)(preview)

    def _clear_body(self) -> None:
        old = self.body
        self.body = QWidget()
        self.box.replaceWidget(old, self.body)
        old.hide()
        old.deleteLater()

    def _images(self, preview: Any) -> None:
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        for row, (label, images) in enumerate(preview.images):
            name = QLabel(label)
            name.setToolTip(f"class {label}: the first {len(images)} images")
            grid.addWidget(name, row, 0)
            for col, pixels in enumerate(images, 1):
                thumb = QLabel()
                thumb.setObjectName("PreviewImage")
                thumb.setPixmap(thumbnail(pixels))
                h, w, c = pixels.shape
                thumb.setToolTip(f"{label}: {h}×{w}, {'grayscale' if c == 1 else 'RGB'}")
                grid.addWidget(thumb, row, col)
        grid.setColumnStretch(len(max((i for _, i in preview.images), key=len, default=[])) + 1, 1)

    def _signals(self, preview: Any) -> None:
        box = QVBoxLayout(self.body)
        box.setContentsMargins(0, 0, 0, 0)
        plot = QLabel()
        plot.setObjectName("PreviewPlot")
        plot.setPixmap(signals_plot(preview.signals))
        box.addWidget(plot)
        what = "class" if preview.class_counts else "target"
        channels = preview.x_shape[-1]
        legend = ", ".join(
            f"<span style='color:{LINE_COLOURS[k % len(LINE_COLOURS)]}'>■</span> {label}"
            for k, (label, _) in enumerate(preview.signals)
        )
        caption = QLabel(
            f"The first {len(preview.signals)} sequences by {what}: {legend}"
            + (f" (channel 1 of {channels})" if channels > 1 else "")
        )
        caption.setWordWrap(True)
        box.addWidget(caption)

    def _rows(self, preview: Any) -> None:
        box = QVBoxLayout(self.body)
        box.setContentsMargins(0, 0, 0, 0)
        table = QTableWidget(len(preview.rows), len(preview.header))
        table.setObjectName("PreviewRows")
        table.setHorizontalHeaderLabels(preview.header)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        for r, cells in enumerate(preview.rows):
            for c, cell in enumerate(cells):
                item = QTableWidgetItem(cell)
                item.setToolTip(cell)
                table.setItem(r, c, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + sum(
            table.rowHeight(r) for r in range(table.rowCount())
        )
        table.setFixedHeight(height + 2 * table.frameWidth())
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        box.addWidget(table)
        if preview.kind == "text":
            note = QLabel(f"The first {len(preview.rows)} rows of the file, as written")
            note.setObjectName("Subtle")
            box.addWidget(note)
