"""Message boxes by kind: information, warning and error each show their own icon.

``MainWindow.tell(title, text, kind)`` goes through ``message_box``; tests replace ``tell``
(tests/gui/conftest.py) and record the kind.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


class Kind(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


ICONS = {
    Kind.INFO: QMessageBox.Icon.Information,
    Kind.WARNING: QMessageBox.Icon.Warning,
    Kind.ERROR: QMessageBox.Icon.Critical,
}


def as_kind(kind: Kind | str) -> Kind:
    return kind if isinstance(kind, Kind) else Kind(kind)


def message_box(
    parent: QWidget | None, title: str, text: str, kind: Kind | str = Kind.ERROR
) -> QMessageBox:
    """A box with the icon of ``kind`` and an OK button; the caller shows it (exec or open)."""
    box = QMessageBox(ICONS[as_kind(kind)], title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # paths can be copied
    return box
