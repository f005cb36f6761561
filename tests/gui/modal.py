"""Answer a modal dialog that a call opens with exec(): a timer finds it, hands it to ``handle``
and closes whatever is still open, so a test never hangs on a dialog it did not expect."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog


def answer_modal(handle, *, tries: int = 200) -> list:
    """Schedule ``handle(dialog)`` for the next modal dialog; returns a list that receives the
    dialog (so the test can assert on what it saw after the call returns)."""
    seen: list = []

    def poll(left: int = tries) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None:
            if left:
                QTimer.singleShot(20, lambda: poll(left - 1))
            return
        seen.append(widget)
        try:
            handle(widget)
        finally:
            if widget.isVisible() and isinstance(widget, QDialog):
                widget.reject()

    QTimer.singleShot(0, poll)
    return seen
