"""The live summary table: one column per framework and a comparison column that says which
framework is better, by how much and in which direction; every row says how it is computed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from engine.divergence import parted_pair
from engine.report import ROW_HELP, ROWS, RUN_HELP, RUN_ROWS, run_rows, summary_rows
from engine.runtimes import DEFAULT_RUNTIMES
from engine.style import color_of, label_of

PARITY_ROWS = ("Max |loss diff|", "First divergent step", "Parity note", "Timing note")


class SummaryTable(QTableWidget):
    # ((reference, other), step): the parity row's link, "compare their layers where they part"
    compare_requested = Signal(object, int)

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
        self.set_frameworks(DEFAULT_RUNTIMES)
        self.parted: tuple[tuple[str, str], int] | None = None  # the pair whose curves parted
        self.cellClicked.connect(self._clicked)

    COLUMN_PX = 96  # a framework column's width, unless its header needs more

    def set_frameworks(self, frameworks) -> None:
        self.frameworks = tuple(frameworks)
        self.setColumnCount(len(self.frameworks) + 1)  # one per framework, then the comparison
        metrics = self.horizontalHeader().fontMetrics()
        self.setHorizontalHeaderLabels(
            [self._header(label_of(f).split("/")[0], metrics) for f in self.frameworks]
            + ["Comparison"]
        )
        for col, fw in enumerate(self.frameworks):
            item = self.horizontalHeaderItem(col)
            assert item is not None  # set just above by setHorizontalHeaderLabels
            item.setForeground(QColor(color_of(fw)))
            item.setToolTip(label_of(fw))
            # fixed: a wide run-wide note spans these columns; wide enough for the header
            widest = max(metrics.horizontalAdvance(line) for line in item.text().split("\n"))
            self.setColumnWidth(col, max(self.COLUMN_PX, widest + 16))
        self.clearContents()

    def _header(self, label: str, metrics) -> str:
        """The label, on two lines where one would widen the column ("Keras on\nPyTorch")."""
        if metrics.horizontalAdvance(label) + 16 <= self.COLUMN_PX or " " not in label:
            return label
        head, tail = label.rsplit(" ", 1)
        return f"{head}\n{tail}"

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
        timing: Sequence[str] = (),
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
        diff_text = "–" if diff is None else f"{diff:.3g}"
        first_text = (
            "–" if not parity else ("none (within tolerance)" if first is None else str(first))
        )
        pairs = (parity or {}).get("pairs")
        pairs = (
            {k: v for k, v in pairs.items() if isinstance(v, dict)}
            if isinstance(pairs, dict)
            else {}
        )
        if len(pairs) > 1:  # more than two columns: the largest, then each against the reference
            reference = label_of((parity or {}).get("reference", self.frameworks[0]))

            def each(key: str, fmt) -> str:
                return ", ".join(f"{label_of(fw)} {fmt(p.get(key))}" for fw, p in pairs.items())

            diff_text += (
                f" (vs {reference}: "
                + each("max_loss_abs_diff", lambda v: "–" if v is None else f"{v:.3g}")
                + ")"
            )
            if first is not None:
                first_text += (
                    f" (vs {reference}: "
                    + each("first_divergent_step", lambda v: "none" if v is None else str(v))
                    + ")"
                )
        self._spanned(base, diff_text)
        self.parted = parted_pair({"parity": parity}) if parity and first is not None else None
        if self.parted is None:
            self._spanned(base + 1, first_text)
        else:  # a link: the layer comparison of the two columns at the batch before they parted
            (a, b), step = self.parted
            link = self._spanned(
                base + 1,
                f"{first_text} · Where do they part? Compare layers ›",
                f"Click to compare every layer of {label_of(b)} and {label_of(a)} on batch "
                f"{step} (the batches before it replayed), tinted on the canvas",
            )
            font = QFont()
            font.setUnderline(True)
            link.setFont(font)
            link.setForeground(QColor("#1a5fb4"))
        self._spanned(base + 2, "; ".join(notes) if notes else "none")
        self._spanned(base + 3, "; ".join(timing) if timing else "none")
        self.setWordWrap(True)
        self.resizeRowsToContents()

    def _spanned(self, row: int, text: str, tooltip: str | None = None) -> QTableWidgetItem:
        """A run-wide figure: one cell across the framework columns, wrapped."""
        if self.columnSpan(row, 0) != self.columnCount():
            self.setSpan(row, 0, 1, self.columnCount())
        item = QTableWidgetItem(text)
        item.setToolTip(tooltip or text)
        self.setItem(row, 0, item)
        return item

    def _clicked(self, row: int, _column: int) -> None:
        if self.parted is not None and row == self._first + len(ROWS) + 1:
            columns, step = self.parted
            self.compare_requested.emit(columns, step - 1)
