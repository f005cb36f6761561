"""The Help menu: Getting Started, Keyboard Shortcuts, Documentation, Project File Format,
Report a Problem and About (with TwinTrain's version).

Pages are bundled (assets/help, README.md; packaging/twintrain.spec) and shown offline in a
QTextBrowser. The shortcut list is read from the window's actions, so it never goes stale.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.resources import app_root, resource_dir
from engine.runtimes import RUNTIMES
from gui import system_info
from gui.formatting import joined


def help_file(name: str) -> Path:
    return resource_dir("assets") / "help" / name


def readme_file() -> Path:
    return app_root() / "README.md"


def action_label(action: QAction) -> str:
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


def shortcut_rows(win: QWidget) -> list[tuple[str, str, str]]:
    """(command, shortcuts, where) for every action of the window that has a shortcut."""
    rows, seen = [], set()
    for action in win.findChildren(QAction):
        keys = list(
            dict.fromkeys(
                k.toString(QKeySequence.SequenceFormat.NativeText)
                for k in action.shortcuts()
                if not k.isEmpty()
            )
        )
        if not keys or id(action) in seen or not action.text():
            continue
        seen.add(id(action))
        context = action.shortcutContext()
        where = "canvas" if context == Qt.ShortcutContext.WidgetWithChildrenShortcut else "anywhere"
        rows.append((action_label(action), ", ".join(keys), where))
    return rows


class TextDialog(QDialog):
    """A page in a QTextBrowser (HTML or Markdown); links to web pages open in the browser."""

    def __init__(
        self, parent: QWidget | None, title: str, text: str, *, markdown: bool = False
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        if markdown:
            self.browser.setMarkdown(text)
        else:
            self.browser.setHtml(text)
        _close_box(self, self.browser, 760, 620)


def _close_box(dialog: QDialog, content: QWidget, width: int, height: int) -> None:
    """Lay out a read-only dialog: its content above a Close button."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    box = QVBoxLayout(dialog)
    box.addWidget(content, 1)
    box.addWidget(buttons)
    dialog.resize(width, height)


class ShortcutsDialog(QDialog):
    def __init__(self, win: QWidget) -> None:
        super().__init__(win)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = shortcut_rows(win)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Command", "Shortcut", "Works"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnsToContents()
        _close_box(self, self.table, 520, 560)

    def rows(self) -> list[tuple[str, str, str]]:
        def text(r: int, c: int) -> str:
            item = self.table.item(r, c)
            return item.text() if item is not None else ""

        return [(text(r, 0), text(r, 1), text(r, 2)) for r in range(self.table.rowCount())]


class HelpUi:
    """Fills the window's Help menu. Dialogs open non-modal (``show``) and the last one is kept
    in ``dialog``."""

    def __init__(self, win) -> None:
        self.win = win
        self.dialog: QDialog | None = None
        self.act_getting_started = win._action("&Getting Started", self.getting_started, "F1")
        self.act_shortcuts = win._action("&Keyboard Shortcuts", self.shortcuts)
        self.act_docs = win._action("&Documentation (README)", self.documentation)
        self.act_format = win._action("Project &File Format", self.file_format)
        self.act_report = win._action(
            "&Report a Problem…", self.report_problem, tip="Copy system details to the clipboard"
        )
        menu = win.help_menu
        first = win.act_about
        for act in (
            self.act_getting_started,
            self.act_shortcuts,
            None,
            self.act_docs,
            self.act_format,
            None,
            self.act_report,
            None,
        ):
            menu.insertSeparator(first) if act is None else menu.insertAction(first, act)

    def _show(self, dialog: QDialog) -> QDialog:
        if self.dialog is not None:
            self.dialog.close()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.destroyed.connect(lambda *_: self._forget(dialog))
        self.dialog = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _page(self, title: str, path: Path, *, markdown: bool) -> QDialog | None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            self.win.tell(
                title,
                f"{path}: {exc.strerror or exc} (the installation is missing this file).",
                "error",
            )
            return None
        return self._show(TextDialog(self.win, title, text, markdown=markdown))

    def getting_started(self) -> QDialog | None:
        return self._page("Getting Started", help_file("getting_started.html"), markdown=False)

    def documentation(self) -> QDialog | None:
        return self._page("TwinTrain Documentation", readme_file(), markdown=True)

    def file_format(self) -> QDialog | None:
        """The reference docs/project-file.md holds, made from the registries on the spot (so
        the page always matches the installed version; nothing to bundle or keep in step)."""
        from engine.spec.docs import markdown

        return self._show(TextDialog(self.win, "Project File Format", markdown(), markdown=True))

    def shortcuts(self) -> QDialog:
        return self._show(ShortcutsDialog(self.win))

    def report_problem(self) -> str:
        text = system_info.report_text(getattr(self.win, "gpus", None))
        QGuiApplication.clipboard().setText(text)
        self.win.statusBar().showMessage("System details copied to the clipboard", 6000)
        self.win.tell(
            "Report a Problem",
            "Your system details were copied to the clipboard; paste them into your report, with "
            f"what you did and what happened:\n\n{text}",
            "info",
        )
        return text


def about_text() -> str:
    return (
        f"<b>TwinTrain {system_info.app_version()}</b><br>"
        "Build a small network once; train it side by side in "
        f"{joined([r.label for r in RUNTIMES.values()])}.<br><br>"
        f"{system_info.versions_text()}"
    )


def about_box(parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.NoIcon,
        "About TwinTrain",
        about_text(),
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setIconPixmap(
        parent.windowIcon().pixmap(64, 64) if parent is not None else box.iconPixmap()
    )
    return box
