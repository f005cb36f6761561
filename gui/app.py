"""Start the desktop app: `twintrain` opens the default preset, `twintrain FILE` that file
(a path, or a preset name such as digits_cnn)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from engine.presets import DEFAULT_PRESET, preset_path
from gui import theme
from gui.icons import app_icon
from gui.main_window import MainWindow
from gui.tasks import cancel_all


def create_app(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = (
        existing
        if isinstance(existing, QApplication)
        else QApplication([sys.argv[0] if sys.argv else "twintrain"])
    )
    app.setApplicationName("TwinTrain")
    app.setApplicationDisplayName("TwinTrain")
    app.setDesktopFileName("twintrain")
    app.setWindowIcon(app_icon())
    theme.apply(app)
    return app


def create_window(argv: list[str]) -> MainWindow:
    """The main window with the project named on the command line (or the default preset)."""
    win = MainWindow()
    target = next((a for a in argv if not a.startswith("-")), None)
    if target is None:
        win.open_preset(DEFAULT_PRESET)
    elif Path(target).exists():
        if not win.open_path(Path(target), ask=False):
            win.open_preset(DEFAULT_PRESET)
    elif preset_path(target) is not None:
        win.open_preset(target)
    else:
        win.tell(
            "Cannot open project",
            f"{target}: no such file, and no preset of that name (see `twintrain presets`)",
            "error",
        )
        win.open_preset(DEFAULT_PRESET)
    return win


def run_app(argv: list[str]) -> int:
    app = create_app(argv)
    win = create_window(argv)
    win.show()
    QTimer.singleShot(0, win.offer_recovery)
    QTimer.singleShot(0, win.probe_gpus)
    if os.environ.get("TWINTRAIN_SMOKE") == "ready":
        _report_when_idle(win)
    try:
        return app.exec()
    finally:
        cancel_all()  # background tasks (exports, the GPU probe) end with the app, not after


class _FirstPaint(QObject):
    """Start-up check used by bench/gui_startup.py: once the canvas has painted and the event
    queue is empty, print a line and quit."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self._done)
        return False

    def _done(self) -> None:
        print("twintrain: ready", flush=True)
        self.win.doc.undo_stack.setClean()
        self.win.close()


def _report_when_idle(win: MainWindow) -> None:
    win.view.viewport().installEventFilter(_FirstPaint(win))
