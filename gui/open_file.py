"""Open a file or folder with the system's application, and say so when nothing can.

``QDesktopServices.openUrl`` returns False where no browser or file manager is registered (a
bare desktop, a server, the offscreen platform); the user then gets a dialog with the path and
buttons to copy it or open its folder, instead of nothing happening.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def open_local(parent: QWidget | None, path: str | Path, what: str = "the file") -> bool:
    """Open ``path`` with its application; False, with a CannotOpenDialog shown, when none did."""
    path = Path(path)
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    dialog = CannotOpenDialog(parent, path, what)
    dialog.open()  # window-modal, does not block
    return False


class CannotOpenDialog(QDialog):
    """'Could not open …': the path (selectable), Copy Path, Open Folder and Close."""

    def __init__(self, parent: QWidget | None, path: Path, what: str = "the file") -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle("Cannot open")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.message = QLabel(
            f"TwinTrain could not open {what}: no application to open it is registered on "
            f"this system (a web browser for .html, a file manager for folders).\n\n"
            f"It is here:"
        )
        self.message.setWordWrap(True)
        self.path_edit = QLineEdit(str(path))
        self.path_edit.setReadOnly(True)
        self.path_edit.setMinimumWidth(480)
        self.status = QLabel("")
        buttons = QDialogButtonBox()
        self.copy_button = QPushButton("Copy Path")
        self.folder_button = QPushButton("Open Folder")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy_path)
        self.folder_button.clicked.connect(self.open_folder)
        box = QVBoxLayout(self)
        box.addWidget(self.message)
        box.addWidget(self.path_edit)
        box.addWidget(self.status)
        box.addWidget(buttons)

    def copy_path(self) -> None:
        QGuiApplication.clipboard().setText(str(self.path))
        self.status.setText("Path copied to the clipboard.")

    def open_folder(self) -> bool:
        folder = self.path if self.path.is_dir() else self.path.parent
        ok = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        self.status.setText(
            f"Opened {folder}."
            if ok
            else f"No file manager either: copy the path and open {folder} yourself."
        )
        return ok
