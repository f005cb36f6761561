"""Run > Worker Limits…: the memory cap and the hang timeout a run's workers get.

The engine enforces both (a worker over its memory cap stops itself with a message; one that
sends nothing for the hang timeout is declared unresponsive and killed) and the other framework
goes on either way. Here the user sets them; they are remembered in the app's settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.defaults import HANG_TIMEOUT_S, MIN_HANG_TIMEOUT_S, MIN_MEMORY_MB
from gui.paths import settings_file

MEMORY_KEY = "run/max_memory_mb"
HANG_KEY = "run/hang_timeout_s"
DEFAULT_HANG_S = int(HANG_TIMEOUT_S)  # whole seconds: the dialog's spin box
MIN_HANG_S = int(MIN_HANG_TIMEOUT_S)


@dataclass(frozen=True)
class Limits:
    max_memory_mb: int = 0  # 0: no cap
    hang_timeout_s: int = DEFAULT_HANG_S

    def session_options(self) -> dict:
        """The Session keyword arguments these limits stand for."""
        return {
            "rss_cap_bytes": self.max_memory_mb * 2**20 if self.max_memory_mb else None,
            "hang_timeout_s": float(self.hang_timeout_s),
        }

    def describe(self) -> str:
        memory = f"memory cap {self.max_memory_mb} MB" if self.max_memory_mb else "no memory cap"
        return f"{memory}, hang timeout {self.hang_timeout_s} s"


def _settings() -> QSettings:
    return QSettings(str(settings_file()), QSettings.Format.IniFormat)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def load_limits() -> Limits:
    """The saved limits; a hand-edited settings file with nonsense falls back to the defaults."""
    settings = _settings()
    mb = _int(settings.value(MEMORY_KEY, 0), 0)
    hang = _int(settings.value(HANG_KEY, DEFAULT_HANG_S), DEFAULT_HANG_S)
    return Limits(mb if mb >= MIN_MEMORY_MB else 0, hang if hang >= MIN_HANG_S else DEFAULT_HANG_S)


def save_limits(limits: Limits) -> None:
    settings = _settings()
    settings.setValue(MEMORY_KEY, limits.max_memory_mb)
    settings.setValue(HANG_KEY, limits.hang_timeout_s)
    settings.sync()


class LimitsDialog(QDialog):
    """Two spin boxes and a line that says what is wrong, if anything, before OK is accepted."""

    def __init__(self, limits: Limits, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Worker Limits")
        self.memory = QSpinBox()
        self.memory.setRange(0, 1024 * 1024)
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MB")
        self.memory.setSpecialValueText("No cap")
        self.memory.setValue(limits.max_memory_mb)
        self.memory.setToolTip(
            "A framework whose worker process uses more memory (RSS) than this is stopped\n"
            "with a message; the other framework goes on. 0: no cap."
        )
        self.hang = QSpinBox()
        self.hang.setRange(MIN_HANG_S, 24 * 3600)
        self.hang.setSuffix(" s")
        self.hang.setValue(limits.hang_timeout_s)
        self.hang.setToolTip(
            "A worker that sends nothing for this long (after its framework has imported)\n"
            "is declared unresponsive and stopped; the other framework goes on."
        )
        self.problem = QLabel("")
        self.problem.setObjectName("LimitsProblem")
        self.problem.setStyleSheet("color: #c62828;")
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Memory cap per worker:", self.memory)
        form.addRow("Hang timeout:", self.hang)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self._defaults
        )
        self.buttons = buttons
        box = QVBoxLayout(self)
        box.addWidget(
            QLabel("Each framework's worker is stopped, with a message in its column, when it:")
        )
        box.addLayout(form)
        box.addWidget(self.problem)
        box.addWidget(buttons)

    def _defaults(self) -> None:
        self.memory.setValue(0)
        self.hang.setValue(DEFAULT_HANG_S)
        self.problem.setText("")

    def limits(self) -> Limits:
        return Limits(self.memory.value(), self.hang.value())

    def accept(self) -> None:
        mb = self.memory.value()
        if 0 < mb < MIN_MEMORY_MB:
            self.problem.setText(
                f"A memory cap of {mb} MB is below what a framework needs to start; "
                f"set at least {MIN_MEMORY_MB} MB, or 0 for no cap."
            )
            self.memory.setFocus()
            return
        super().accept()
