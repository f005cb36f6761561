"""Export the dashboard's charts: PNG and SVG of each plot, and a CSV of the data shown."""

from __future__ import annotations

import csv
from pathlib import Path

from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from gui.run.plots import PLOTS, LivePlots


def export_charts(plots: LivePlots, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in PLOTS:
        plot = plots.plots[name]
        png = folder / f"{name}.png"
        exporter = ImageExporter(plot)
        exporter.parameters()["width"] = 900
        exporter.export(str(png))
        svg = folder / f"{name}.svg"
        _write_svg(plot, svg)
        path = folder / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(("framework", "series", plots.x_mode, "value"))
            for (fw, key), item in plots.curves.items():
                if plots.curve_plot[(fw, key)] != name:
                    continue
                xs, ys = item.getOriginalDataset()
                if xs is None:
                    continue
                for x, y in zip(xs, ys):
                    writer.writerow((fw, key, repr(float(x)), repr(float(y))))
        written += [png, svg, path]
    return written


def _write_svg(plot, path: Path) -> None:
    """Render a plot item to SVG with Qt's own generator (pyqtgraph's SVG exporter chokes on
    some Qt 6 path strings)."""
    rect = plot.sceneBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle(plot.titleLabel.text or "TwinTrain chart")
    painter = QPainter(generator)
    try:
        plot.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()
