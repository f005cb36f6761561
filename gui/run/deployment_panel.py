"""The dashboard's Deployment tab: every exported model file of a run (or of an export folder)
loaded, timed and checked in its own runtime, as `twintrain bench-export` does.

The benchmark (engine.deploy) starts one child process per file; this panel only calls it from
a background thread (gui.tasks), shows its progress, then the table and the chart it wrote.
No framework and no matplotlib are ever imported in the app's process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.deploy.benchmark import DEPLOY_FILE, output_dir
from engine.deploy.table import cells, columns
from engine.spec.errors import SpecError
from gui.open_file import open_local

if TYPE_CHECKING:
    from gui.tasks import Task

# Row colours by status: a mismatch or a failure must not look like a result.
STATUS_COLOURS = {"mismatch": "#b00020", "failed": "#b00020", "skipped": "#777777"}
EMPTY_TEXT = (
    "Export the trained models to compare their runtimes: tick 'Export models' before "
    "Train, or open a run that has them (Runs panel)."
)


def parse_batches(text: str) -> tuple[int, ...] | None:
    """'1, 32' -> (1, 32); '' -> None (the benchmark's default); anything else: SpecError."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        return None
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError(
            f"batch sizes are whole numbers separated by commas (e.g. 1,32), got '{text}'"
        ) from None
    if any(b < 1 for b in sizes):
        raise SpecError(f"batch sizes must be 1 or more, got '{text}'")
    return sizes


def has_exports(folder: Path | None) -> bool:
    return folder is not None and (
        (folder / "models" / "exports.json").is_file() or (folder / "exports.json").is_file()
    )


def row_verdict(row: dict[str, Any]) -> str:
    """Whether the file's outputs match the trained model, in words, for the Status cell."""
    status, diff = row.get("status"), row.get("max_abs_diff")
    if row.get("baseline") and status == "ok":
        return "baseline: the trained model, the reference of its framework's files"
    if status == "ok":
        extra = f" ({row['reason']})" if row.get("reason") else ""
        return f"outputs match (max |diff| {diff:.2g}){extra}" if diff is not None else "ok"
    if status == "mismatch":
        return f"outputs differ by {diff:.3g}: {row.get('reason') or 'above the tolerance'}"
    return f"{status}: {row.get('reason')}"


class FittedImage(QLabel):
    """An image scaled to the space it has, keeping its proportions (the chart PNG);
    a double-click opens the file at full size."""

    opened = Signal()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.image is not None and not self.image.isNull():
            self.opened.emit()
        super().mouseDoubleClickEvent(event)

    def __init__(self) -> None:
        super().__init__()
        self.image: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 100)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_image(self, image: QPixmap | None, text: str = "") -> None:
        self.image = image
        self.setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.image is None or self.image.isNull():
            self.setPixmap(QPixmap())
            return
        self.setPixmap(
            self.image.scaled(
                self.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )


class DeploymentPanel(QWidget):
    """Benchmark options, a progress bar, and the last result of the folder shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DeploymentPanel")
        self.folder: Path | None = None
        self.result: dict[str, Any] | None = None
        self.task: Task | None = None
        self.seconds = 2.0  # timed seconds per file and batch size (engine.deploy)
        self.batches = QLineEdit()
        self.batches.setPlaceholderText("1, 32")
        self.batches.setToolTip(
            "Batch sizes to time, separated by commas (empty: 1 and the project's batch size)"
        )
        self.batches.setMaximumWidth(90)
        self.threads = QSpinBox()
        self.threads.setRange(1, 256)
        self.threads.setToolTip("Threads every runtime may use (the same for all; 1 by default)")
        self.threads.setMaximumWidth(70)
        self.quantized = QCheckBox("Quantized variants")
        self.quantized.setToolTip(
            "Also write and time a dynamic-range int8 TFLite file and a dynamically quantized "
            "ONNX file, with their accuracy next to the float model's"
        )
        self.run_button = QPushButton("Run benchmark")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.info = QLabel(EMPTY_TEXT)
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Batch sizes:", self.batches), ("Threads:", self.threads)):
            text = QLabel(label)
            text.setBuddy(widget)
            row.addWidget(text)
            row.addWidget(widget)
        row.addWidget(self.quantized)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        row.addStretch(0)

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("DeploymentTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.chart = FittedImage()
        self.chart.setObjectName("DeploymentChart")
        self.chart.opened.connect(self._open_chart)
        self.views = QTabWidget()  # each at the full width: the chart is unreadable squeezed
        self.views.setDocumentMode(True)
        self.views.addTab(self.table, "Table")
        self.views.addTab(self.chart, "Chart")

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 4, 0, 0)
        box.addLayout(row)
        box.addWidget(self.info)
        box.addWidget(self.views, 1)
        self.set_folder(None)

    # ---- which folder ------------------------------------------------------------------------

    def set_folder(self, folder: Path | None) -> None:
        """Show ``folder`` (a run folder or an export folder): its last benchmark if it has one;
        the Run button is enabled only where there are exported models."""
        if self.task is not None:
            return  # a benchmark is running: it keeps its folder
        self.folder = Path(folder) if folder is not None else None
        ready = has_exports(self.folder)
        self.run_button.setEnabled(ready)
        self.result = None
        self.run_button.setText("Run benchmark")
        saved = output_dir(self.folder) / DEPLOY_FILE if ready and self.folder else None
        if saved is not None and saved.is_file():
            try:
                self.show_result(json.loads(saved.read_text(encoding="utf-8")))
                self.run_button.setText("Run again")
                return
            except (OSError, ValueError, KeyError, TypeError):
                pass  # an unreadable result is as good as none: run again
        self._clear()
        self.info.setText(
            f"Ready: Run benchmark loads and times every model in …/{self.folder.name}"
            if ready and self.folder
            else EMPTY_TEXT
        )

    def _clear(self) -> None:
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.chart.set_image(None)

    # ---- running -----------------------------------------------------------------------------

    def start(self) -> bool:
        if self.task is not None or not has_exports(self.folder):
            return False
        try:
            batches = parse_batches(self.batches.text())
        except SpecError as exc:
            self.info.setText(str(exc))
            return False
        if self.folder is None:
            return False
        folder, threads, quantized = self.folder, self.threads.value(), self.quantized.isChecked()
        seconds = self.seconds
        from engine.deploy import run_benchmark
        from gui.tasks import run_in_background

        def work(task):
            return run_benchmark(
                folder,
                batches=batches,
                threads=threads,
                seconds=seconds,
                quantized=quantized,
                progress=lambda done, total, text: task.report((done, total, text)),
                cancelled=lambda: task.cancelled,
            )

        self.run_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.setRange(0, 0)
        self.progress.show()
        self.info.setText("Starting one process per model file…")
        self.task = run_in_background(
            work,
            on_result=self._done,
            on_error=self._failed,
            on_progress=self._progress,
            parent=self,
            name="deployment-benchmark",
        )
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.info.setText("Cancelling: stopping the model processes…")

    def _progress(self, value: tuple[int, int, str]) -> None:
        done, total, text = value
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total} · {text}")

    def _finish(self) -> None:
        self.task = None
        self.cancel_button.hide()
        self.progress.hide()
        self.run_button.setEnabled(has_exports(self.folder))

    def _done(self, result: dict[str, Any]) -> None:
        self._finish()
        self.show_result(result)
        self.run_button.setText("Run again")

    def _failed(self, exc: BaseException, _tb: str) -> None:
        self._finish()
        self.info.setText(f"The benchmark did not complete: {exc}")

    def _open_chart(self) -> None:
        chart = (self.result or {}).get("chart")
        if chart:
            open_local(self, Path(chart), "the deployment chart")

    # ---- showing -----------------------------------------------------------------------------

    def show_result(self, result: dict[str, Any]) -> None:
        self.result = result
        # the figures first, the verdict in words last (the CLI's short status column goes)
        heads = columns(result)
        status_col = heads.index("status")
        heads = [h for h in heads if h != "status"] + ["outputs"]
        verdict_col = len(heads) - 1
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.setRowCount(len(result["formats"]))
        for r, row in enumerate(result["formats"]):
            texts = cells(result, row)
            del texts[status_col]
            texts.append(row_verdict(row))
            colour = STATUS_COLOURS.get(str(row.get("status")))
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if status_col <= c < verdict_col:  # the figures
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if colour:
                    item.setForeground(QColor(colour))
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        chart = result.get("chart")
        pixmap = QPixmap(chart) if chart and Path(chart).is_file() else QPixmap()
        if pixmap.isNull():
            self.chart.set_image(None, result.get("chart_error") or "no chart")
        else:
            self.chart.set_image(pixmap)
            self.chart.setToolTip(f"Double-click to open it full size: {chart} (SVG beside it)")
        counts: dict[str, int] = {}
        for row in result["formats"]:
            counts[str(row.get("status"))] = counts.get(str(row.get("status")), 0) + 1
        versions = ", ".join(f"{k} {v}" for k, v in result.get("runtimes", {}).items())
        self.info.setText(
            f"{len(result['formats'])} models, "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            + f" · {result.get('threads')} thread(s), batches "
            + ", ".join(str(b) for b in result.get("batches", []))
            + (f" · {versions}" if versions else "")
            + (f" · took {result['wall_s']:.0f} s" if result.get("wall_s") else "")
        )
