"""Puts training into the main window: Train/Pause/Stop actions, the dashboard below the
canvas, the summary and runs docks, and the canvas lock while a run goes.

Kept apart from main_window.py so the editor and the training side stay small and separate.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QSplitter, QToolBar

from engine.export.formats import MANIFEST
from engine.fastest import PROBE_STEPS, is_fastest
from engine.past_runs import framework_label
from engine.runtimes import RUNTIMES
from engine.spec import from_dict, validate
from engine.spec.errors import SpecError
from engine.spec.training import resolve_training
from engine.trained_weights import available
from gui import folders
from gui.formatting import joined
from gui.paths import settings_file
from gui.run.controller import RunController, runs_dir
from gui.run.dashboard import Dashboard
from gui.run.export_actions import (
    CodeExportDialog,
    ExportDialog,
    ModelExporter,
    run_frameworks,
    run_project,
)
from gui.run.limits import LimitsDialog, load_limits, save_limits
from gui.run.runs_panel import RunsPanel

if TYPE_CHECKING:
    from gui.tasks import Task

WARM_KEY = "run/warm_workers"
WARM_DELAY_MS = 1500  # after start-up or a run: let the window settle before workers import
WARM_TIP = (
    "Start the workers ahead of time, "
    "so Train does not wait for the ticked frameworks to import.\n"
    "Costs memory while idle (the imported frameworks) and is never done during a run."
)
SPLIT_KEY = "run/canvas_share"
CANVAS_SHARE = (
    0.5  # of the height, for the canvas, while the dashboard is open (until the user drags)
)
LOCK_TEXT = "Training: the network is locked until the run ends (Stop with Shift+F5)"


class TrainingUi:
    def __init__(self, win) -> None:
        self.win = win
        self.controller = RunController(win)
        self.probe: Task | None = (
            None  # the background probe of a RUNTIME:fastest choice (gui.tasks.Task)
        )
        self.dashboard = Dashboard(self.controller)
        # pyqtgraph: imported 1.5 s after the event loop starts, not during start-up
        QTimer.singleShot(0, self.dashboard.plots.preload)
        self.dashboard.table.setMinimumHeight(120)
        self.dashboard.plots.setMinimumHeight(
            240
        )  # on 800 px screens the canvas keeps 300 px of view
        self.runs = RunsPanel(runs_dir())

        central = win.centralWidget()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(central)
        self.splitter.addWidget(self.dashboard)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setCollapsible(0, False)
        win.setCentralWidget(self.splitter)
        self.splitter.setSizes([520, 0])  # the dashboard opens when a run starts
        win._dock(self.runs, "Runs", Qt.DockWidgetArea.LeftDockWidgetArea, 190)

        self.lock_banner = QLabel(LOCK_TEXT, win.view)
        self.lock_banner.setObjectName("LockBanner")
        self.lock_banner.setStyleSheet(
            "background:#FFF3CD;color:#5C4400;padding:4px 10px;border:1px solid #E0C36A;"
            "border-radius:4px;"
        )
        self.lock_banner.move(12, 10)
        self.lock_banner.adjustSize()
        self.lock_banner.hide()

        self.act_train = win._action(
            "&Train", self.train, "F5", "train", "Train in the chosen frameworks"
        )
        self.act_pause = win._action(
            "&Pause", self.toggle_pause, "F6", "pause", "Pause or resume the run"
        )
        self.act_pause.setCheckable(True)
        self.act_stop = win._action("&Stop", self.stop, "Shift+F5", "stop", "Stop the run")
        self.act_pause.setEnabled(False)
        self.act_stop.setEnabled(False)
        self.act_dashboard = QAction("Training &Dashboard", win, checkable=True)
        self.act_dashboard.toggled.connect(self.show_dashboard)
        self.act_warm = QAction("Keep Workers &Warm", win, checkable=True)
        self.act_warm.setToolTip(WARM_TIP)
        self.act_warm.setStatusTip(WARM_TIP.replace("\n", " "))
        self.act_warm.setChecked(self._warm_setting())
        self.act_warm.toggled.connect(self.set_warm)
        self._warm_timer = QTimer(win)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.timeout.connect(self.prewarm)
        self.warm_label = QLabel("")
        self.warm_label.setObjectName("WarmWorkers")
        self.warm_label.setToolTip(WARM_TIP)
        win.statusBar().addPermanentWidget(self.warm_label)
        self._warm_poll = QTimer(win)
        self._warm_poll.setInterval(500)
        self._warm_poll.timeout.connect(self._show_warm)
        self.limits = load_limits()
        self.limits_dialog: LimitsDialog | None = None
        self.act_limits = QAction("Worker &Limits…", win)
        self.act_limits.setStatusTip("Memory cap and hang timeout for each framework's worker")
        self.act_limits.triggered.connect(self.edit_limits)
        from gui.run.layer_compare import LayerCompare

        self.compare = LayerCompare(win, self)  # Run > Compare Layers
        # the parity row's link: the pair whose curves parted, on the batch where they parted
        self.dashboard.table.compare_requested.connect(
            lambda columns, step: self.compare.start(tuple(columns), step)
        )
        menu = win.menuBar().addMenu("&Run")
        for act in (
            self.act_train,
            self.act_pause,
            self.act_stop,
            None,
            self.compare.action,
            None,
            self.act_dashboard,
            self.act_warm,
            self.act_limits,
        ):
            menu.addSeparator() if act is None else menu.addAction(act)
        help_menu = next(a for a in win.menuBar().actions() if a.text().replace("&", "") == "Help")
        win.menuBar().insertAction(help_menu, menu.menuAction())
        tools = win.findChild(QToolBar, "MainToolbar")
        if tools is not None:
            tools.addSeparator()
            for act in (self.act_train, self.act_pause, self.act_stop):
                tools.addAction(act)

        self.exporter = ModelExporter(win)
        self.exporter.finished.connect(self._export_done)
        self.act_export_model = win._action(
            "Export &Model…",
            self.export_model,
            "Ctrl+E",
            None,
            "Export the network in every model format "
            "(the last run's trained weights, or the initial ones)",
        )
        self.act_export_code = win._action(
            "Export &Code…",
            self.export_code,
            "Ctrl+Shift+E",
            None,
            "Write model_torch.py and model_keras.py that rebuild and train the network",
        )
        file_menu = next(
            a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == "File"
        )
        quit_action = win.act_quit
        file_menu.insertAction(quit_action, self.act_export_model)
        file_menu.insertAction(quit_action, self.act_export_code)
        file_menu.insertSeparator(quit_action)

        self.controller.running_changed.connect(self._running)
        self.controller.workers_done.connect(lambda: self.set_locked(False))  # not after the charts
        self.dashboard.options_changed.connect(lambda: self._warm_timer.start(WARM_DELAY_MS // 2))
        self.controller.set_warm(self.act_warm.isChecked())
        if self.act_warm.isChecked():
            self._warm_timer.start(WARM_DELAY_MS)
        from gui.run.past_runs import PastRuns

        self.past = PastRuns(
            self
        )  # the Runs panel: a past run's summary, charts and report; Compare
        self.splitter.splitterMoved.connect(lambda *_: self._sync_dashboard_action())
        self.splitter.splitterMoved.connect(
            lambda *_: self._remember_split()
        )  # the user dragged it

    # ---- actions -----------------------------------------------------------------------------

    def train(self) -> bool:
        """Validate the project and start a run; problems are shown, nothing starts."""
        if self.controller.running or self.probe is not None:
            return False
        options = self.dashboard.chosen(self.limits)
        if not options.frameworks:
            ticks = [framework_label(fw) for fw in RUNTIMES if fw not in self.dashboard.unavailable]
            self.win.tell(
                "Nothing to train",
                f"Tick at least one of {joined(ticks, 'or')} above the plots.",
                "warning",
            )
            return False
        checked = self._checked_project("Cannot train yet")
        if checked is None:
            return False
        checked, graph = checked
        training = resolve_training(checked.training, graph.dataset.task if graph.dataset else None)
        n = graph.dataset.n_samples if graph.dataset else 0
        n_train = n - round(n * training["dataset"]["validation_split"])
        expected = training["epochs"] * math.ceil(max(n_train, 1) / training["batch_size"])
        if any(is_fastest(c) for c in options.frameworks):
            self._probe_then_train(checked, options, expected)
            return True
        self.controller.start(checked, options, expected_steps=expected)
        return True

    def _probe_then_train(self, project, options, expected: int) -> None:
        """RUNTIME:fastest: probe every mode of each such runtime in the background (the window
        stays live; Stop cancels), then start the run with the modes the probes chose."""
        from dataclasses import replace

        from engine.fastest import ProbeCancelled, resolve
        from gui.tasks import run_in_background

        bar = self.win.statusBar()

        def work(task):
            return resolve(
                project,
                options.frameworks,
                device=options.device,
                init=options.init,
                optimizer=options.optimizer,
                on_probe=task.report,
                cancelled=lambda: task.cancelled,
            )

        def probing(rt: str) -> None:
            bar.showMessage(
                f"Probing every mode of {framework_label(rt)} for the fastest "
                f"({PROBE_STEPS} steps each)…"
            )

        def chosen(result) -> None:
            self.probe = None
            self._probing(False)
            columns, probes = result
            for rt, found in probes.items():
                self.dashboard.info.setText(f"Fastest {framework_label(rt)}: {found['why']}")
            self.controller.start(
                project,
                replace(options, frameworks=columns),
                expected_steps=expected,
                fastest=probes,
            )

        def failed(exc: BaseException, _tb: str) -> None:
            self.probe = None
            self._probing(False)
            if isinstance(exc, ProbeCancelled):
                bar.showMessage("Probe stopped; nothing was trained.", 6000)
                return
            self.win.tell("Could not find the fastest mode", str(exc), "warning")

        self._probing(True)
        self.probe = run_in_background(
            work,
            on_result=chosen,
            on_error=failed,
            on_progress=probing,
            parent=self.win,
            name="fastest-probe",
        )

    def _probing(self, on: bool) -> None:
        """While a probe runs: Train off, Stop on (it cancels the probe), the project locked."""
        self.act_train.setEnabled(not on)
        self.act_stop.setEnabled(on)
        self.set_locked(on)

    def edit_limits(self) -> LimitsDialog:
        """Run > Worker Limits…: a window-modal dialog; OK saves the limits for the next runs."""
        dialog = LimitsDialog(self.limits, self.win)
        self.limits_dialog = dialog

        def done(result: int) -> None:
            if result == LimitsDialog.DialogCode.Accepted:
                self.limits = dialog.limits()
                save_limits(self.limits)
                self.win.statusBar().showMessage(
                    f"Worker limits for the next runs: {self.limits.describe()}", 6000
                )
            self.limits_dialog = None
            dialog.deleteLater()

        dialog.finished.connect(done)
        dialog.open()
        return dialog

    # ---- warm workers ------------------------------------------------------------------------

    @staticmethod
    def _warm_setting() -> bool:
        forced = os.environ.get("TWINTRAIN_WARM_WORKERS")
        if forced in ("0", "1"):
            return forced == "1"
        value = QSettings(str(settings_file()), QSettings.Format.IniFormat).value(WARM_KEY, True)
        return value not in (False, "false", "0", 0)

    def set_warm(self, enabled: bool) -> None:
        settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
        settings.setValue(WARM_KEY, bool(enabled))
        settings.sync()
        self.controller.set_warm(enabled)
        if enabled:
            self.prewarm()
        else:
            self._show_warm()

    def prewarm(self) -> int:
        """Warm workers for the options now chosen above the plots (none while a run goes)."""
        options = self.dashboard.chosen()
        assert options.schedule is not None  # chosen() resolves the default schedule
        started = self.controller.prewarm(options.frameworks, options.schedule)
        self._show_warm()
        return started

    def warm_state(self) -> dict[str, str]:
        pool = self.controller.pool
        return pool.state() if pool is not None and not self.controller.running else {}

    def _show_warm(self) -> None:
        """The status bar says which workers wait ready, and keeps polling while one imports."""
        state = self.warm_state()
        order = {fw: i for i, fw in enumerate(RUNTIMES)}  # the registry's order
        shown = sorted(state.items(), key=lambda item: order.get(item[0], len(order)))
        ready = [framework_label(fw) for fw, s in shown if s == "ready"]
        importing = [framework_label(fw) for fw, s in shown if s != "ready"]
        parts = ([f"{joined(ready)} ready"] if ready else []) + (
            [f"{joined(importing)} importing…"] if importing else []
        )
        self.warm_label.setText(f"Workers: {', '.join(parts)}" if parts else "")
        if importing and not self._warm_poll.isActive():
            self._warm_poll.start()
        elif not importing:
            self._warm_poll.stop()

    def toggle_pause(self) -> None:
        if self.act_pause.isChecked():
            self.controller.pause()
            self.act_pause.setText("&Resume")
        else:
            self.controller.resume()
            self.act_pause.setText("&Pause")

    def stop(self) -> None:
        if self.probe is not None:
            self.probe.cancel()
            return
        self.controller.stop()

    def show_dashboard(self, show: bool) -> None:
        """Open the dashboard below the canvas at the split last chosen (the canvas keeps
        CANVAS_SHARE of the height by default, so the network stays visible during a run)."""
        sizes = self.splitter.sizes()
        total = sum(sizes) or 800
        if show and sizes[1] < 50:
            canvas = int(total * self.canvas_share())
            self.splitter.setSizes([canvas, total - canvas])
        elif not show and sizes[1] > 0:
            self.splitter.setSizes([total, 0])

    @staticmethod
    def canvas_share() -> float:
        """The canvas's share of the height while the dashboard is open (remembered)."""
        value = QSettings(str(settings_file()), QSettings.Format.IniFormat).value(
            SPLIT_KEY, CANVAS_SHARE
        )
        try:
            share = float(value)  # type: ignore[arg-type]  # QSettings value: bad types caught
        except (TypeError, ValueError):
            share = CANVAS_SHARE
        return min(max(share, 0.2), 0.8) if math.isfinite(share) else CANVAS_SHARE

    def _remember_split(self) -> None:
        sizes = self.splitter.sizes()
        if sizes[1] > 0 and sum(sizes) > 0:
            settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
            settings.setValue(SPLIT_KEY, round(sizes[0] / sum(sizes), 4))
            settings.sync()

    def _sync_dashboard_action(self) -> None:
        self.act_dashboard.blockSignals(True)
        self.act_dashboard.setChecked(self.splitter.sizes()[1] > 0)
        self.act_dashboard.blockSignals(False)

    # ---- run state ---------------------------------------------------------------------------

    def _running(self, running: bool) -> None:
        win = self.win
        self.act_train.setEnabled(not running)
        self.act_pause.setEnabled(running)
        self.act_stop.setEnabled(running)
        if not running:
            self.act_pause.setChecked(False)
            self.act_pause.setText("&Pause")
            self.runs.refresh()
            if self.act_warm.isChecked():
                self._warm_timer.start(WARM_DELAY_MS)
        else:
            self.act_dashboard.setChecked(True)
            self.show_dashboard(True)
            self._show_warm()  # the pool's workers are the run's now
        self.set_locked(running)
        win.statusBar().showMessage(
            "Training…" if running else "Run finished; it is kept in the Runs list.", 6000
        )

    @property
    def locked(self) -> bool:
        return not self.win.view.isInteractive()

    def set_locked(self, locked: bool) -> None:
        """No edits while a run goes: the run trains the project as it was when Train was
        pressed."""
        win = self.win
        win.view.setInteractive(not locked)
        win.layers_panel.setEnabled(not locked)
        win.inspector.setEnabled(not locked)
        for act in (
            win.act_new,
            win.act_open,
            win.act_undo,
            win.act_redo,
            win.act_cut,
            win.act_paste,
            win.act_delete,
            win.act_arrange,
        ):
            act.setEnabled(not locked)
        if not locked:
            win.act_undo.setEnabled(win.doc.undo_stack.canUndo())
            win.act_redo.setEnabled(win.doc.undo_stack.canRedo())
        self.lock_banner.setVisible(locked)
        self.lock_banner.raise_()

    # ---- exports -----------------------------------------------------------------------------

    def _checked_project(self, title: str = "Fix the project first"):
        """(project, graph) for the editor's project, validated as a file would be; None, with a
        message naming the problem, when it cannot be used."""
        try:
            project = self.win.doc.file_project()
            if not project.layers:
                raise SpecError("add at least one layer (drag one from the palette)")
            checked = from_dict(project.to_dict())
            checked.path = project.path
            return checked, validate(checked)
        except SpecError as exc:
            from gui.problems import reveal_problem

            advice = reveal_problem(self.win, exc)  # selects the block or shows the setting in red
            self.win.statusBar().showMessage(f"{title}: {exc.reason}", 10000)
            self.win.tell(title, f"{exc}\n\n{advice}", "error")
            return None

    def export_model(self) -> bool:
        if self.exporter.busy:
            self.win.tell(
                "Export running", "An export is already running; it reports when done.", "info"
            )
            return False
        checked = self._checked_project()
        if checked is None:
            return False
        project = checked[0]
        dialog = ExportDialog(
            self.win, start=folders.start_dir(project.base_dir), trained_run=self.trained_run()
        )
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return False
        run = dialog.weights_run()
        if run is not None:  # the network as that run trained it, not as edited since
            project = run_project(run, project)
        out = dialog.folder_row.path() or Path(".")
        if str(out) != ".":
            folders.remember(out)
        return self.start_export(project, out, dialog.formats(), weights=run)

    def trained_run(self) -> Path | None:
        """The last run's folder where it kept trained weights (the run has ended); else None."""
        run_dir = self.controller.run_dir
        if run_dir is None or self.controller.running or not available(run_dir):
            return None
        return run_dir

    def start_export(
        self, project, out: Path, formats: list[str], weights: Path | None = None
    ) -> bool:
        """``weights``: a run folder whose trained weights to export; None: the initial weights."""
        if not formats or not str(out).strip() or str(out) == ".":
            self.win.tell(
                "Nothing to export",
                "Tick at least one format and choose an output folder.",
                "warning",
            )
            return False
        if out.is_dir() and any(out.iterdir()):
            self.win.tell(
                "Folder not empty",
                f"{out} is not empty; choose an empty or new folder (nothing was changed).",
                "warning",
            )
            return False
        # a run's trained weights: the runtimes it trained; the initial ones: those ticked
        frameworks = run_frameworks(weights) if weights is not None else self.dashboard.checked()
        self.exporter.start(
            project.to_json(), project.base_dir, out, formats, weights, frameworks=frameworks
        )
        self.win.statusBar().showMessage(
            f"Exporting to {out}… (each framework builds the model in its worker)"
        )
        return True

    def _export_done(self, ok: bool, report: str) -> None:
        self.win.statusBar().showMessage(
            "Export finished." if ok else "Export finished with problems.", 8000
        )
        if self.exporter.out is not None and (self.exporter.out / MANIFEST).is_file():
            # the dashboard's Deployment tab benchmarks the files just written
            self.dashboard.deployment.set_folder(self.exporter.out)
            report += "\nTo time them in their runtimes: the dashboard's Deployment tab."
        self.win.tell(
            "Export finished" if ok else "Export finished with problems",
            report,
            "info" if ok else "warning",
        )

    def export_code(self, folder: Path | None = None) -> list[Path]:
        checked = self._checked_project()
        if checked is None:
            return []
        project = checked[0]
        if folder is None:  # a new folder is fine, as in Export Model (write_code creates it)
            dialog = CodeExportDialog(self.win, start=folders.start_dir(project.base_dir))
            if (
                dialog.exec() != CodeExportDialog.DialogCode.Accepted
                or dialog.folder_row.path() is None
            ):
                return []
            folder = dialog.folder_row.path()
            assert folder is not None  # checked just above
        from engine.export.code import write_code

        existing = [n for n in ("model_torch.py", "model_keras.py") if (folder / n).exists()]
        if existing:
            self.win.tell(
                "Files exist",
                f"{', '.join(existing)} already exist in {folder}; nothing was overwritten.",
                "warning",
            )
            return []
        entries = write_code(project, folder)
        folders.remember(folder)  # created by now where it was new
        bad = [e for e in entries if not e["ok"]]
        if bad:
            self.win.tell(
                "Export Code failed", "\n".join(f"{e['file']}: {e['reason']}" for e in bad), "error"
            )
        written = [folder / e["file"] for e in entries if e["ok"]]
        self.win.statusBar().showMessage(
            f"Wrote {', '.join(p.name for p in written)} to {folder}", 8000
        )
        return written

    def shutdown(self) -> None:
        self._warm_timer.stop()
        self._warm_poll.stop()
        self.controller.shutdown()
