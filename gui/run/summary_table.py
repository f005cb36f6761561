"""The live summary table: one column per framework and a comparison column that says which
framework is better, by how much and in which direction; every row says how it is computed."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from engine.report import ROW_HELP, ROWS, RUN_HELP, RUN_ROWS, run_rows, summary_rows
from engine.style import color_of, label_of

PARITY_ROWS = ("Max |loss diff|", "First divergent step", "Parity note", "Timing note")


class SummaryTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(len(RUN_ROWS) + len(ROWS) + len(PARITY_ROWS), 3, parent)
        self.setVerticalHeaderLabels(
            [label for _, label, _ in RUN_ROWS]
            + [label for _, label, _ in ROWS]
            + list(PARITY_ROWS)
        )
        helps = [RUN_HELP[key] for key, _, _ in RUN_ROWS] + [
            ROW_HELP.get(key, "") for key, _, _ in ROWS
        ]
        for row, text in enumerate(helps):
            self.verticalHeaderItem(row).setToolTip(text)  # how the row is computed
        self._first = len(RUN_ROWS)  # the per-framework rows start here
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.set_frameworks(("torch", "tensorflow"))

    def set_frameworks(self, frameworks) -> None:
        self.frameworks = tuple(frameworks)
        self.setColumnCount(len(self.frameworks) + 1)  # one per framework, then the comparison
        for col in range(len(self.frameworks)):
            self.setColumnWidth(col, 96)  # fixed: a wide run-wide note spans these columns
        self.setHorizontalHeaderLabels(
            [label_of(f).split("/")[0] for f in self.frameworks] + ["Comparison"]
        )
        for col, fw in enumerate(self.frameworks):
            self.horizontalHeaderItem(col).setForeground(QColor(color_of(fw)))
        self.clearContents()

    def text(self, row_label: str, column: int) -> str:
        """The shown text of a cell (tests and exports read it); run-wide rows live in column 0."""
        labels = [self.verticalHeaderItem(r).text() for r in range(self.rowCount())]
        item = self.item(labels.index(row_label), column)
        return item.text() if item else ""

    def fill(
        self,
        figures: dict[str, dict[str, Any]],
        parity: dict[str, Any] | None,
        notes: list[str],
        timing: list[str] = (),
        run: dict[str, Any] | None = None,
    ) -> None:
        """``run``: the run-wide settings shown in their own rows
        ({"init": ..., "optimizer": ...})."""
        summary = {"frameworks": {fw: figures.get(fw, {}) for fw in self.frameworks}, **(run or {})}
        for row, (text, help_text) in enumerate((t, h) for _, t, h in run_rows(summary)):
            self._spanned(row, text, help_text)
        compare = len(self.frameworks)
        helps = [ROW_HELP.get(key, "") for key, _, _ in ROWS]
        for row, (_label, cells, note) in enumerate(summary_rows(summary), self._first):
            for col, cell in enumerate(cells):
                bold = cell.startswith("<b>")
                item = QTableWidgetItem(cell.replace("<b>", "").replace("</b>", ""))
                if bold:
                    font = QFont()
                    font.setBold(True)
                    item.setFont(font)
                    item.setForeground(QColor(color_of(self.frameworks[col])))
                item.setToolTip(helps[row - self._first])
                self.setItem(row, col, item)
            item = QTableWidgetItem(note)  # says who is better and in which direction
            item.setToolTip(f"{note}\n{helps[row - self._first]}".strip())
            self.setItem(row, compare, item)
        base = self._first + len(ROWS)
        diff = parity.get("max_loss_abs_diff") if parity else None
        first = parity.get("first_divergent_step") if parity else None
        self._spanned(base, "–" if diff is None else f"{diff:.3g}")
        self._spanned(
            base + 1,
            "–" if not parity else ("none (within tolerance)" if first is None else str(first)),
        )
        self._spanned(base + 2, "; ".join(notes) if notes else "none")
        self._spanned(base + 3, "; ".join(timing) if timing else "none")
        self.setWordWrap(True)
        self.resizeRowsToContents()

    def _spanned(self, row: int, text: str, tooltip: str | None = None) -> None:
        """A run-wide figure: one cell across the framework columns, wrapped."""
        if self.columnSpan(row, 0) != self.columnCount():
            self.setSpan(row, 0, 1, self.columnCount())
        item = QTableWidgetItem(text)
        item.setToolTip(tooltip or text)
        self.setItem(row, 0, item)
