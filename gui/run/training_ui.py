"""Puts training into the main window: Train/Pause/Stop actions, the dashboard below the
canvas, the summary and runs docks, and the canvas lock while a run goes.

Kept apart from main_window.py so the editor and the training side stay small and separate.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QSplitter, QToolBar

from engine.spec import from_dict, validate
from engine.spec.errors import SpecError
from engine.spec.training import resolve_training
from gui.run.controller import RunController, runs_dir
from gui.run.dashboard import Dashboard
from gui.run.runs_panel import RunsPanel, load_loss_curves

LOCK_TEXT = "Training: the network is locked until the run ends (Stop with Shift+F5)"


class TrainingUi:
    def __init__(self, win) -> None:
        self.win = win
        self.controller = RunController(win)
        self.dashboard = Dashboard(self.controller)
        self.dashboard.table.setMinimumHeight(120)
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
        self.lock_banner.setStyleSheet("background:#FFF3CD;color:#5C4400;padding:4px 10px;border:1px solid #E0C36A;"
                                       "border-radius:4px;")
        self.lock_banner.move(12, 10)
        self.lock_banner.adjustSize()
        self.lock_banner.hide()

        self.act_train = win._action("&Train", self.train, "F5", "train", "Train in both frameworks")
        self.act_pause = win._action("&Pause", self.toggle_pause, "F6", "pause", "Pause or resume the run")
        self.act_pause.setCheckable(True)
        self.act_stop = win._action("&Stop", self.stop, "Shift+F5", "stop", "Stop the run")
        self.act_pause.setEnabled(False)
        self.act_stop.setEnabled(False)
        self.act_dashboard = QAction("Training &Dashboard", win, checkable=True)
        self.act_dashboard.toggled.connect(self.show_dashboard)
        menu = win.menuBar().addMenu("&Run")
        for act in (self.act_train, self.act_pause, self.act_stop, None, self.act_dashboard):
            menu.addSeparator() if act is None else menu.addAction(act)
        help_menu = next(a for a in win.menuBar().actions() if a.text().replace("&", "") == "Help")
        win.menuBar().insertAction(help_menu, menu.menuAction())
        tools = win.findChild(QToolBar, "MainToolbar")
        if tools is not None:
            tools.addSeparator()
            for act in (self.act_train, self.act_pause, self.act_stop):
                tools.addAction(act)

        self.controller.running_changed.connect(self._running)
        self.runs.selection_changed.connect(self._overlay)
        self.splitter.splitterMoved.connect(lambda *_: self._sync_dashboard_action())

    # ---- actions -----------------------------------------------------------------------------

    def train(self) -> bool:
        """Validate the project and start a run; problems are shown, nothing starts."""
        if self.controller.running:
            return False
        options = self.dashboard.chosen()
        if not options["frameworks"]:
            self.win.tell("Nothing to train", "Tick PyTorch, TensorFlow/Keras or both above the plots.")
            return False
        try:
            project = self.win.doc.file_project()
            if not project.layers:
                raise SpecError("add at least one layer (drag one from the palette)")
            checked = from_dict(project.to_dict())
            checked.path = project.path
            graph = validate(checked)
        except SpecError as exc:
            self.win.statusBar().showMessage(f"Cannot train: {exc.reason}", 10000)
            self.win.tell("Cannot train yet", f"{exc}\n\nFix the red block or field, then press Train again.")
            return False
        training = resolve_training(checked.training, graph.dataset.task if graph.dataset else None)
        n = graph.dataset.n_samples if graph.dataset else 0
        n_train = n - round(n * training["dataset"]["validation_split"])
        expected = training["epochs"] * math.ceil(max(n_train, 1) / training["batch_size"])
        self.controller.start(checked, expected_steps=expected, **options)
        return True

    def toggle_pause(self) -> None:
        if self.act_pause.isChecked():
            self.controller.pause()
            self.act_pause.setText("&Resume")
        else:
            self.controller.resume()
            self.act_pause.setText("&Pause")

    def stop(self) -> None:
        self.controller.stop()

    def show_dashboard(self, show: bool) -> None:
        sizes = self.splitter.sizes()
        total = sum(sizes) or 800
        if show and sizes[1] < 50:
            self.splitter.setSizes([int(total * 0.25), int(total * 0.75)])
        elif not show and sizes[1] > 0:
            self.splitter.setSizes([total, 0])

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
        else:
            self.act_dashboard.setChecked(True)
            self.show_dashboard(True)
        self.set_locked(running)
        win.statusBar().showMessage("Training…" if running else "Run finished; it is kept in the Runs list.", 6000)

    @property
    def locked(self) -> bool:
        return not self.win.view.isInteractive()

    def set_locked(self, locked: bool) -> None:
        """No edits while a run goes: the run trains the project as it was when Train was pressed."""
        win = self.win
        win.view.setInteractive(not locked)
        win.palette.setEnabled(not locked)
        win.inspector.setEnabled(not locked)
        for act in (win.act_new, win.act_open, win.act_undo, win.act_redo, win.act_cut, win.act_paste,
                    win.act_delete, win.act_arrange):
            act.setEnabled(not locked)
        if not locked:
            win.act_undo.setEnabled(win.doc.undo_stack.canUndo())
            win.act_redo.setEnabled(win.doc.undo_stack.canRedo())
        self.lock_banner.setVisible(locked)
        self.lock_banner.raise_()

    def _overlay(self, folders) -> None:
        current = self.controller.run_dir
        runs = [(f.name, load_loss_curves(f)) for f in folders if f != current]
        self.dashboard.plots.set_overlays([(label, curves) for label, curves in runs if curves])

    def shutdown(self) -> None:
        self.controller.shutdown()
