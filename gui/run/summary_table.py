"""The live summary table: one column per framework, the faster one marked with the ratio."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from engine.report import ROWS, summary_rows
from engine.style import COLORS, LABELS

PARITY_ROWS = ("Max |loss diff|", "First divergent step", "Parity note", "Timing note")


class SummaryTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(len(ROWS) + len(PARITY_ROWS), 3, parent)
        self.setVerticalHeaderLabels([label for _, label, _ in ROWS] + list(PARITY_ROWS))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col in (0, 1):
            self.setColumnWidth(col, 96)  # fixed: a wide run-wide note spans these columns
        self.set_frameworks(("torch", "tensorflow"))

    def set_frameworks(self, frameworks) -> None:
        self.frameworks = tuple(frameworks)
        labels = [LABELS[f].split("/")[0] for f in self.frameworks] + [""] * (2 - len(self.frameworks)) + ["Comparison"]
        self.setHorizontalHeaderLabels(labels[:3])
        for col, fw in enumerate(self.frameworks):
            self.horizontalHeaderItem(col).setForeground(QColor(COLORS[fw]))
        self.clearContents()

    def text(self, row_label: str, column: int) -> str:
        """The shown text of a cell (tests and exports read it); run-wide rows live in column 0."""
        labels = [self.verticalHeaderItem(r).text() for r in range(self.rowCount())]
        item = self.item(labels.index(row_label), column)
        return item.text() if item else ""

    def fill(self, figures: dict[str, dict[str, Any]], parity: dict[str, Any] | None, notes: list[str],
             timing: list[str] = ()) -> None:
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
            who, _, rest = note.partition(" ")
            item = QTableWidgetItem(f"{who} ×{rest.split('×')[0]}" if note else "")
            item.setToolTip(note)
            self.setItem(row, 2, item)
        base = len(ROWS)
        diff = parity.get("max_loss_abs_diff") if parity else None
        first = parity.get("first_divergent_step") if parity else None
        self._spanned(base, "–" if diff is None else f"{diff:.3g}")
        self._spanned(base + 1, "–" if not parity else ("none (within tolerance)" if first is None else str(first)))
        self._spanned(base + 2, "; ".join(notes) if notes else "none")
        self._spanned(base + 3, "; ".join(timing) if timing else "none")
        self.setWordWrap(True)
        self.resizeRowsToContents()

    def _spanned(self, row: int, text: str) -> None:
        """A run-wide figure: one cell across the framework columns, wrapped."""
        if self.columnSpan(row, 0) != 3:
            self.setSpan(row, 0, 1, 3)
        item = QTableWidgetItem(text)
        item.setToolTip(text)
        self.setItem(row, 0, item)
