"""The training dashboard: run options, each framework's state, live plots and the summary table.

It shows whatever the RunController holds; it never talks to a worker itself.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.export.formats import FORMATS
from engine.run_options import RunOptions
from engine.runtimes import DEFAULT_RUNTIMES, RUNTIMES, all_columns, unavailable_reason
from engine.style import label_of
from engine.summary import parity_notes, timing_notes
from gui import folders
from gui.elided_label import ElidedLabel
from gui.flow_layout import FlowLayout
from gui.open_file import open_local
from gui.run.chart_export import ChartExporter
from gui.run.controller import RunController
from gui.run.deployment_panel import DeploymentPanel
from gui.run.errors_panel import FrameworkStatus
from gui.run.figures import live_figures, live_parity_of
from gui.run.limits import Limits
from gui.run.mode_picker import ModePicker
from gui.run.plot_kinds import DETAILS, TITLES
from gui.run.plots_slot import PlotsSlot
from gui.run.summary_table import SummaryTable

FRAMEWORKS = tuple(RUNTIMES)  # one checkbox, status and colour each (engine/runtimes.py)
NO_GPU_REASON = "No NVIDIA GPU found (nvidia-smi lists none); training runs on the CPU"


def _labelled(text: str, widget: QWidget) -> QWidget:
    """A label and its control as one item, so a wrapping row never separates them."""
    pair = QWidget()
    row = QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    label = QLabel(text)
    label.setBuddy(widget)
    row.addWidget(label)
    row.addWidget(widget)
    return pair


def _pair(box: QWidget, picker: QWidget) -> QWidget:
    """A runtime's checkbox and its mode picker, kept together when the options row wraps."""
    pair = QWidget()
    row = QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(2)
    row.addWidget(box)
    row.addWidget(picker)
    return pair


class Dashboard(QWidget):
    options_changed = Signal()
    _follow_ticks = True  # the states shown follow the checkboxes (no run shown)

    def __init__(self, controller: RunController, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.framework_boxes = {fw: QCheckBox(label_of(fw)) for fw in FRAMEWORKS}
        # beside each checkbox, the runtime's execution modes (each ticked one is a column)
        self.mode_pickers = {fw: ModePicker(fw) for fw in FRAMEWORKS}
        self.unavailable: dict[str, str] = {}  # runtime -> why it cannot run here, how to fix it
        for picker in self.mode_pickers.values():
            picker.changed.connect(self.options_changed)
            picker.changed.connect(self._chosen_changed)
        for fw, box in self.framework_boxes.items():
            why = unavailable_reason(fw)  # package metadata only: nothing is imported
            if why:
                self.unavailable[fw] = why
                box.setText(f"{label_of(fw)} (not installed)")
            box.setChecked(fw in DEFAULT_RUNTIMES and not why)
            box.setEnabled(not why)  # greyed out, listed all the same
            box.setToolTip(why or RUNTIMES[fw].summary)
            box.toggled.connect(self.options_changed)
            box.toggled.connect(self._chosen_changed)
            box.toggled.connect(self._pickers_enabled)
        self._pickers_enabled()
        self.device = QComboBox()
        self.device.addItem("Auto", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.addItem("CUDA", "cuda")
        self.set_gpus([])
        self.schedule = QComboBox()
        for label, value in (
            ("Default", None),
            ("Parallel", "parallel"),
            ("Alternate", "alternate"),
            ("Sequential", "sequential"),
        ):
            self.schedule.addItem(label, value)
        self.schedule.currentIndexChanged.connect(self.options_changed)
        self.device.currentIndexChanged.connect(self.options_changed)
        self.schedule.setToolTip(
            "Parallel: each framework on its own half of the cores (default on CPU).\n"
            "Alternate: one framework computes at a time, in chunks (default on a GPU).\n"
            "Sequential: one after the other."
        )
        self.init = QComboBox()
        self.init.addItem("Matched init", "matched")
        self.init.addItem("Native init", "native")
        self.init.setToolTip(
            "Matched: the same initial weights in every framework, drawn once from the seed.\n"
            "Native: each framework initialises its own layers."
        )
        self.optimizer = (
            QComboBox()
        )  # apart from init: native weights with matched math is a fair question
        self.optimizer.addItem("Matched optimizer math", "matched")
        self.optimizer.addItem("Native optimizers", "native")
        self.optimizer.setToolTip(
            "Matched: PyTorch runs Keras' update formulas, so every framework computes "
            "the same update.\nNative: each framework's stock optimizer "
            "(shows what the defaults alone change)."
        )
        self.export_models = QCheckBox("Export models")
        self.export_models.setToolTip(
            "After training, write the trained models in every format (verified) and the "
            "standalone scripts to the run folder's models/"
        )
        self.x_axis = QComboBox()
        self.x_axis.addItem("Step", "step")
        self.x_axis.addItem("Wall time", "wall")
        self.log_loss = QCheckBox("Log loss")
        self.detail = QComboBox()  # on a low dashboard only the loss and this plot fit
        for name in DETAILS:
            self.detail.addItem(TITLES[name], name)
        self.detail.setToolTip(
            "The dashboard is too low for all five plots: the loss and this one are shown.\n"
            "Drag the divider above the dashboard up to see all of them."
        )
        self.detail_box = _labelled("Beside loss:", self.detail)
        self.detail_box.hide()
        self.export_button = QPushButton("Export charts…")
        self.report_button = QPushButton("Open report")
        self.report_button.setEnabled(False)

        options = FlowLayout()  # wraps onto a second row on a narrow window instead of widening it
        for w in (
            *(_pair(box, self.mode_pickers[fw]) for fw, box in self.framework_boxes.items()),
            _labelled("Device:", self.device),
            _labelled("Schedule:", self.schedule),
            self.init,
            self.optimizer,
            self.export_models,
            _labelled("X:", self.x_axis),
            self.log_loss,
            self.detail_box,
            self.export_button,
            self.report_button,
        ):
            options.addWidget(w)

        self.status: dict[str, FrameworkStatus] = {}  # per column, made when first shown
        for fw in FRAMEWORKS:
            self._status_widget(fw)
        self.states = states = QGridLayout()  # the shown columns' states, two a row beyond two
        states.setContentsMargins(0, 0, 0, 0)
        states.setVerticalSpacing(0)
        self.info = ElidedLabel(
            "Press Train (F5) to train the ticked frameworks.",
            Qt.TextElideMode.ElideMiddle,
        )
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shown_status: tuple[str, ...] = ()

        self.plots = PlotsSlot()  # pyqtgraph is imported when the plots are first shown
        self.plots.ready.connect(self._plots_ready)
        self.plots.setMinimumSize(380, 300)
        self.table = SummaryTable()
        self.table.setMinimumWidth(300)
        self.split = split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.plots)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([590, 530])
        self.tabs = QTabWidget()  # where the plots and the table go on a narrow dashboard
        self.tabs.setDocumentMode(True)
        self.tabs.hide()
        self._tabbed = False

        training = QWidget()  # the plots and the table, side by side or in tabs
        inner = QVBoxLayout(training)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(split, 1)
        inner.addWidget(self.tabs, 1)
        self.deployment = DeploymentPanel()  # the exported models timed in their runtimes
        self.pages = QTabWidget()
        self.pages.setObjectName("DashboardPages")
        self.pages.addTab(training, "Training")
        self.pages.addTab(self.deployment, "Deployment")
        self.pages.setTabToolTip(
            1, "Every exported model file loaded, timed and checked in its own runtime"
        )

        page_box = QVBoxLayout(self)
        page_box.setContentsMargins(4, 4, 4, 4)
        page_box.addLayout(options)
        page_box.addLayout(states)
        page_box.addWidget(self.pages, 1)
        self.show_status(self.checked(), follow_ticks=True)

        self.x_axis.currentIndexChanged.connect(self._x_mode)
        self.log_loss.toggled.connect(lambda on: self.plots.built and self.plots.set_log_loss(on))
        self.detail.currentIndexChanged.connect(
            lambda: self.plots.built and self.plots.set_detail(self.detail.currentData())
        )
        self.export_button.clicked.connect(self.export_dialog)
        self.report_button.clicked.connect(self.open_report)
        self._table_at = 0.0
        self._next_draw = 0.0
        self._catch_up = QTimer(self)
        self._catch_up.setSingleShot(True)
        self._catch_up.timeout.connect(self.refresh)
        controller.updated.connect(self.refresh)
        controller.status_changed.connect(self._status)
        controller.finished.connect(self._finished)
        controller.running_changed.connect(self._running)

    # ---- layout ------------------------------------------------------------------------------

    NARROW_PX = 980  # narrower than this, the plots and the table take turns as tabs
    COLUMN_PX = 100  # what each table column beyond two needs on top of that

    def show_status(self, frameworks, *, follow_ticks: bool = False) -> None:
        """Show the state of these columns only (the run shown, or with ``follow_ticks``, while
        no run is shown, the ones ticked, following the checkboxes): side by side up to two,
        then two a row, so four still fit a narrow window."""
        self._follow_ticks = follow_ticks
        frameworks = tuple(fw for fw in frameworks if self._status_widget(fw) is not None)
        if frameworks == self.shown_status:
            return
        self.shown_status = frameworks
        for w in self.status.values():
            self.states.removeWidget(w)
        self.states.removeWidget(self.info)
        per_row = 2 if len(frameworks) > 2 else max(len(frameworks), 1)
        for i, fw in enumerate(frameworks):
            self.states.addWidget(self.status[fw], i // per_row, i % per_row)
        for fw, w in self.status.items():
            w.setVisible(fw in frameworks)
        rows = max(1, -(-len(frameworks) // per_row))
        self.states.addWidget(self.info, 0, per_row, rows, 1)
        for col in range(self.states.columnCount()):
            self.states.setColumnStretch(col, 1 if col < per_row else 0)
        self.states.setColumnStretch(per_row, 2 if per_row < 2 or len(frameworks) < 3 else 1)
        if self.isVisible():  # the table's width need changed with the number of columns
            self._fit(self.width())

    def _status_widget(self, column: str) -> FrameworkStatus | None:
        """The state line of a column (a runtime in one mode), made on first use; None for a
        name that is no column (a past run's unknown runtime)."""
        if column not in self.status:
            if column not in all_columns():
                return None
            widget = FrameworkStatus(column, self)
            widget.hide()
            self.status[column] = widget
        return self.status[column]

    def checked(self) -> tuple[str, ...]:
        """The columns ticked (installed runtimes, each in every mode ticked beside it), in the
        registry's order."""
        return tuple(
            column
            for fw in FRAMEWORKS
            if fw not in self.unavailable and self.framework_boxes[fw].isChecked()
            for column in self.mode_pickers[fw].columns()
        )

    def _pickers_enabled(self) -> None:
        running = self.controller.running
        for fw, picker in self.mode_pickers.items():
            picker.setEnabled(
                not running and fw not in self.unavailable and self.framework_boxes[fw].isChecked()
            )

    def _chosen_changed(self) -> None:
        if self._follow_ticks and not self.controller.running:
            self.show_status(self.checked(), follow_ticks=True)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit(event.size().width())

    def _fit(self, width: int) -> None:
        """Side by side where both fit (plots need about 560 px, the table about 420 with two
        framework columns and 100 more for each further one); on a narrower dashboard (a
        1280-px screen with both docks open leaves about 750) each gets the whole width in its
        own tab instead of both being squeezed unreadable."""
        extra = max(0, len(self.shown_status) - 2) * self.COLUMN_PX
        narrow = width < self.NARROW_PX + extra
        if narrow == self._tabbed:
            return
        self._tabbed = narrow
        if narrow:
            self.tabs.addTab(self.plots, "Charts")
            self.tabs.addTab(self.table, "Summary")
            self.split.hide()
            self.tabs.show()
        else:
            self.tabs.clear()
            self.split.insertWidget(0, self.plots)
            self.split.insertWidget(1, self.table)
            self.plots.show()
            self.table.show()
            self.split.setSizes([3 * width // 5, 2 * width // 5])
            self.tabs.hide()
            self.split.show()

    # ---- options -----------------------------------------------------------------------------

    def set_gpus(self, gpus: list[str]) -> None:
        self.gpus = list(gpus)
        model = self.device.model()
        assert isinstance(model, QStandardItemModel)  # a QComboBox's own model
        item = model.item(2)
        item.setEnabled(bool(gpus))
        item.setToolTip(", ".join(gpus) if gpus else NO_GPU_REASON)
        self.device.setToolTip("CUDA: " + (", ".join(gpus) if gpus else NO_GPU_REASON))
        for picker in getattr(self, "mode_pickers", {}).values():
            picker.set_gpu(bool(gpus))

    def chosen(self, limits: Limits | None = None) -> RunOptions:
        """The run options the widgets show (and ``limits``, Run > Worker Limits), with the
        default schedule chosen by the engine's rule for the GPUs the app found."""
        extra: dict[str, Any] = {}
        if limits is not None:
            extra = {
                "max_memory_mb": limits.max_memory_mb or None,
                "hang_timeout_s": float(limits.hang_timeout_s),
            }
        return RunOptions(
            frameworks=self.checked(),
            device=self.device.currentData(),
            schedule=self.schedule.currentData(),
            init=self.init.currentData(),
            optimizer=self.optimizer.currentData(),
            export_formats=tuple(FORMATS) if self.export_models.isChecked() else (),
            **extra,
        ).resolved(has_gpu=bool(self.gpus))

    def _running(self, running: bool) -> None:
        for fw, box in self.framework_boxes.items():
            box.setEnabled(not running and fw not in self.unavailable)
        self._pickers_enabled()
        for w in (
            self.device,
            self.schedule,
            self.init,
            self.optimizer,
            self.export_models,
        ):
            w.setEnabled(not running)
        if running:
            self.report_button.setEnabled(False)
            c = self.controller
            self.plots.reset(c.series.keys(), c.expected_steps)
            self.table.set_frameworks(tuple(c.series))
            self.show_status(tuple(c.series))
            for fw, fw_status in self.status.items():
                fw_status.set_error(None)
                fw_status.set_state(
                    "starting (importing the framework)…" if fw in c.series else "not in this run"
                )
            run_dir = c.run_dir
            if run_dir is not None:  # set by RunController.start before the run shows as running
                self.info.setText(f"Run folder: …/{run_dir.parent.name}/{run_dir.name}")
                self.info.setToolTip(str(run_dir))

    def _x_mode(self) -> None:
        if self.plots.built:
            self.plots.set_x_mode(self.x_axis.currentData())
        self.refresh(force_table=True)

    def _plots_ready(self, plots) -> None:
        """The plots were just built: give them the options chosen so far."""
        plots.set_x_mode(self.x_axis.currentData())
        plots.set_log_loss(self.log_loss.isChecked())
        plots.set_detail(self.detail.currentData())
        plots.arrangement_changed.connect(lambda a: self.detail_box.setVisible(a == "short"))
        self.detail_box.setVisible(plots.arrangement == "short")

    # ---- live updates ------------------------------------------------------------------------

    TABLE_EVERY_S = 0.25  # the table is text: four updates a second are plenty and cheap

    MAX_BUSY = 0.25  # redraws may take at most a quarter of the time, so input stays responsive

    def refresh(self, force_table: bool = False) -> None:
        """Redraw from the controller's buffers: about 30 times a second, slower when a redraw is
        expensive (big runs on a slow machine), and a skipped redraw is made up for shortly."""
        c = self.controller
        if not c.series:
            return
        start = time.perf_counter()
        if not force_table and start < self._next_draw:
            if not self._catch_up.isActive():
                self._catch_up.start(max(1, int((self._next_draw - start) * 1000)))
            return
        self.plots.update_from(c.series, c.epochs, c.compiles)
        self.plots.repaint()  # pay the paint here, so its cost sets the pace
        cost = time.perf_counter() - start
        self._next_draw = start + max(0.03, cost / self.MAX_BUSY)
        now = time.monotonic()
        if not force_table and now - self._table_at < self.TABLE_EVERY_S and c.running:
            return
        self._table_at = now
        figures = {
            fw: live_figures(s, c.epochs.get(fw, []), c.infos.get(fw, {}))
            for fw, s in c.series.items()
        }
        for fw, error in c.errors.items():
            figures[fw] = {**figures.get(fw, {}), "error": error[0]}
        parity = live_parity_of(c.series)  # each column against the first (the reference)
        parted = parity is not None and parity["first_divergent_step"] is not None
        notes = (
            parity_notes(c.session.project, c.session.init, c.session.optimizer, parted=parted)
            if c.session
            else []
        )
        timing = (
            timing_notes(
                c.session.optimizer, tuple(c.series), c.session.project.training.get("optimizer")
            )
            if c.session
            else []
        )
        if c.session is not None:  # what each RUNTIME:fastest probe tried and chose
            timing = timing + [
                f"Fastest {label_of(rt)} mode (probe): {f['why']}"
                for rt, f in c.session.fastest.items()
            ]
        run = {"init": c.session.init, "optimizer": c.session.optimizer} if c.session else None
        self.table.fill(figures, parity, notes, timing, run=run)
        for fw, s in c.series.items():
            if c.status.get(fw) in ("running", "paused") and len(s) and fw in self.status:
                self.status[fw].set_state(
                    f"{c.status[fw]} · step {int(s['step'][-1])} · loss {s['loss'][-1]:.4g}"
                )

    def _status(self, fw: str, status: str) -> None:
        c = self.controller
        widget = self.status.get(fw)
        if widget is None:
            return
        if status == "error":
            message, log = c.errors.get(fw, ("failed", ""))
            widget.set_state("failed")
            widget.set_error(message, log)
        else:
            widget.set_state(status)
        self.refresh(force_table=True)

    def _finished(self, summary: dict) -> None:
        self.refresh(force_table=True)
        if self.shown_run is None:
            self.deployment.set_folder(self.controller.run_dir)
        self.report_button.setEnabled(
            bool(self.controller.run_dir and (self.controller.run_dir / "report.html").exists())
        )
        for fw, figures in summary.get("frameworks", {}).items():
            if "error" not in figures and fw in self.status:
                self.status[fw].set_state(
                    f"{figures.get('status', 'finished')} · {figures.get('steps')} steps"
                )
        run_dir = self.controller.run_dir
        if run_dir and (run_dir / "models" / "exports.json").is_file():
            self.info.setText(f"{self.info.text()} · models in …/{run_dir.name}/models")
        if summary.get("report_error"):
            self.info.setText(f"{self.info.text()} · {summary['report_error']}")

    # ---- exports -----------------------------------------------------------------------------

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export charts to folder", str(folders.start_dir())
        )
        if folder:
            folders.remember(folder)
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> bool:
        """PNG, SVG and CSV of each chart, drawn from the run folder in a separate process
        (gui/run/chart_export.py); the line above the plots says when they are written."""
        run_dir = self.shown_run or self.controller.run_dir
        if run_dir is None or not (run_dir / "metrics.csv").is_file():
            self.info.setText("Nothing to export yet: train, or pick a run in the Runs list")
            return False
        if not hasattr(self, "chart_exporter"):
            self.chart_exporter = ChartExporter(self)
            self.chart_exporter.finished.connect(lambda _ok, line: self.info.setText(line))
        if self.chart_exporter.busy:
            return False
        overlays = [(label, f) for label, f in self.overlay_runs if f != run_dir]
        self.chart_exporter.start(run_dir, folder, overlays)
        self.info.setText(f"Exporting the charts to {folder}…")
        return True

    _shown_run: Path | None = None

    @property
    def shown_run(self) -> Path | None:
        """A past run shown from the Runs panel (gui/run/past_runs.py); None: the live run."""
        return self._shown_run

    @shown_run.setter
    def shown_run(self, folder: Path | None) -> None:
        self._shown_run = folder
        self.deployment.set_folder(folder or self.controller.run_dir)

    overlay_runs: list[tuple[str, Path]] = []  # (label, folder) overlaid on the loss plot

    def open_report(self) -> bool:
        """Open report.html in the browser; where none is registered, say so and show its path."""
        folder = self.shown_run or self.controller.run_dir
        if not folder:
            return False
        return open_local(self, folder / "report.html", "the run's report")
