"""The live summary table: one column per framework, the faster one marked with the ratio."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from engine.report import ROWS, summary_rows
from engine.style import COLORS, LABELS

PARITY_ROWS = ("Max |loss diff|", "First divergent step", "Parity note")


class SummaryTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(len(ROWS) + len(PARITY_ROWS), 3, parent)
        self.setVerticalHeaderLabels([label for _, label, _ in ROWS] + list(PARITY_ROWS))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.set_frameworks(("torch", "tensorflow"))

    def set_frameworks(self, frameworks) -> None:
        self.frameworks = tuple(frameworks)
        labels = [LABELS[f] for f in self.frameworks] + [""] * (2 - len(self.frameworks)) + ["Comparison"]
        self.setHorizontalHeaderLabels(labels[:3])
        for col, fw in enumerate(self.frameworks):
            self.horizontalHeaderItem(col).setForeground(QColor(COLORS[fw]))
        self.clearContents()

    def text(self, row_label: str, column: int) -> str:
        """The shown text of a cell (tests and exports read it)."""
        labels = [self.verticalHeaderItem(r).text() for r in range(self.rowCount())]
        item = self.item(labels.index(row_label), column)
        return item.text() if item else ""

    def fill(self, figures: dict[str, dict[str, Any]], parity: dict[str, Any] | None, notes: list[str]) -> None:
        summary = {"frameworks": {fw: figures.get(fw, {}) for fw in self.frameworks}}
        for row, (_label, cells, note) in enumerate(summary_rows(summary)):
            for col, cell in enumerate(cells):
                bold = cell.startswith("<b>")
                item = QTableWidgetItem(cell.replace("<b>", "").replace("</b>", ""))
                if bold:
                    font = QFont()
                    font.setBold(True)
                    item.setFont(font)
                    item.setForeground(QColor(COLORS[self.frameworks[col]]))
                self.setItem(row, col, item)
            self.setItem(row, 2, QTableWidgetItem(note))
        base = len(ROWS)
        if parity:
            diff = parity.get("max_loss_abs_diff")
            first = parity.get("first_divergent_step")
            self.setItem(base, 2, QTableWidgetItem("–" if diff is None else f"{diff:.3g}"))
            self.setItem(base + 1, 2, QTableWidgetItem("none (within tolerance)" if first is None else str(first)))
        self.setItem(base + 2, 2, QTableWidgetItem("; ".join(notes) if notes else ""))
