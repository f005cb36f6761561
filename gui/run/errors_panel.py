"""A framework's failure, shown in its own column: the message, and the log behind a toggle."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from engine.style import color_of, label_of
from gui.elided_label import ElidedLabel


class FrameworkStatus(QWidget):
    def __init__(self, framework: str, parent=None) -> None:
        super().__init__(parent)
        self.framework = framework
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        row = QHBoxLayout()
        self.title = QLabel(f"<b style='color:{color_of(framework)}'>{label_of(framework)}</b>")
        self.state = ElidedLabel("idle")
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.hide()
        row.addWidget(self.title)
        row.addWidget(self.state, 1)
        row.addWidget(self.details_button)
        box.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color:#b00020")
        self.message.hide()
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setMaximumHeight(160)
        self.details.hide()
        box.addWidget(self.message)
        box.addWidget(self.details)
        self.details_button.toggled.connect(self.details.setVisible)

    def set_state(self, text: str) -> None:
        self.state.setText(text)

    def set_error(self, message: str | None, log: str = "") -> None:
        if not message:
            self.message.hide()
            self.details_button.hide()
            self.details.hide()
            self.details_button.setChecked(False)
            return
        self.message.setText(message)
        self.message.show()
        self.details.setPlainText(log or "(no log)")
        self.details_button.show()
