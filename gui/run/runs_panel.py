"""The Runs panel: every run kept in the data folder. Select a run to see its summary, charts
and report again; select more to overlay their loss curves; right-click for Open report, Open
folder, Rename, Delete and Compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QFile, QItemSelectionModel, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QInputDialog,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from engine.charts import read_metrics
from engine.past_runs import describe, full_text, run_info, set_display_name
from gui.open_file import open_local

PATH_ROLE = Qt.ItemDataRole.UserRole


def load_loss_curves(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{framework: (steps, loss)} from a run folder's metrics.csv."""
    try:
        metrics = read_metrics(folder)
    except (OSError, ValueError, KeyError):
        return {}
    return {fw: (cols["step"], cols["loss"]) for fw, cols in metrics.items()}


class RunsPanel(QWidget):
    selection_changed = Signal(list)  # list[Path]
    compare_requested = Signal(list)  # list[Path], two or more
    run_deleted = Signal(object)  # Path

    def __init__(self, root: Path, parent=None) -> None:
        super().__init__(parent)
        self.root = root
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setToolTip(
            "Select a run to see its summary and charts; select more to overlay their loss "
            "curves; right-click for more"
        )
        self.list.setAlternatingRowColors(True)  # where one two-line entry ends and the next begins
        self.list.setWordWrap(
            True
        )  # two lines an item, wrapped between words on a narrow dock, never cut
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(
            lambda pos: self.context_menu().popup(self.list.viewport().mapToGlobal(pos))
        )
        self.ask = lambda title, text, buttons, default: QMessageBox.question(
            self, title, text, buttons, default
        )
        self.tell = lambda title, text: QMessageBox.warning(self, title, text)
        self.busy_folder = lambda: None  # the run being recorded now (never deleted)
        self.rename_dialog: QInputDialog | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.list)
        self.list.itemSelectionChanged.connect(self._emit)
        self.refresh()

    def refresh(self) -> None:
        selected = {p for p in self.selected()}
        self.list.blockSignals(True)
        self.list.clear()
        folders = (
            sorted(
                (p for p in self.root.iterdir() if p.is_dir()),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            if self.root.is_dir()
            else []
        )
        for folder in folders:
            info = run_info(folder)
            item = QListWidgetItem(describe(info))
            item.setData(PATH_ROLE, str(folder))
            item.setToolTip(full_text(info))
            self.list.addItem(item)
            item.setSelected(folder in selected)
        self.list.blockSignals(False)

    def selected(self) -> list[Path]:
        return [Path(i.data(PATH_ROLE)) for i in self.list.selectedItems()]

    def folders(self) -> list[Path]:
        return [Path(self.list.item(i).data(PATH_ROLE)) for i in range(self.list.count())]

    def _emit(self) -> None:
        self.selection_changed.emit(self.selected())

    def current(self) -> Path | None:
        """The run shown in full: the clicked one if it is selected, else the first selected."""
        item = self.list.currentItem()
        if item is not None and item.isSelected():
            return Path(item.data(PATH_ROLE))
        chosen = self.selected()
        return chosen[0] if chosen else None

    def select(self, folders) -> None:
        """Select these runs (the first becomes the current one), as clicking would."""
        wanted = [str(f) for f in folders]
        self.list.blockSignals(True)
        self.list.clearSelection()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(PATH_ROLE) in wanted:
                item.setSelected(True)
                if item.data(PATH_ROLE) == wanted[0]:
                    self.list.setCurrentItem(item, QItemSelectionModel.SelectionFlag.NoUpdate)
        self.list.blockSignals(False)
        self._emit()

    # ---- context menu ------------------------------------------------------------------------

    def context_menu(self) -> QMenu:
        chosen = self.selected()
        one = chosen[0] if len(chosen) == 1 else None
        menu = QMenu(self)
        act = menu.addAction("Open &Report", lambda: self.open_report(one))
        act.setEnabled(one is not None and (one / "report.html").is_file())
        act = menu.addAction("Open &Folder", lambda: self.open_folder(one))
        act.setEnabled(one is not None)
        act = menu.addAction("Re&name…", lambda: self.ask_rename(one))
        act.setEnabled(one is not None)
        act = menu.addAction("&Compare", lambda: self.compare_requested.emit(chosen))
        act.setEnabled(len(chosen) >= 2)
        act.setToolTip(
            "The selected runs side by side in the summary table, one column per run and framework"
        )
        menu.addSeparator()
        act = menu.addAction(
            "&Delete…" if len(chosen) < 2 else f"&Delete {len(chosen)} Runs…",
            lambda: self.delete(chosen),
        )
        act.setEnabled(bool(chosen))
        return menu

    def open_report(self, folder: Path | None) -> bool:
        """False, with the path shown (gui.open_file), where no browser is registered."""
        return folder is not None and open_local(self, folder / "report.html", "the run's report")

    def open_folder(self, folder: Path | None) -> bool:
        return folder is not None and open_local(self, folder, "the run folder")

    def ask_rename(self, folder: Path | None) -> QInputDialog | None:
        """A window-modal name dialog (open(), not exec(): the event loop keeps running)."""
        if folder is None:
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename run")
        dialog.setLabelText(
            "Name shown for this run (the folder is not moved; empty: the project's name):"
        )
        dialog.setTextValue(run_info(folder)["name"])
        dialog.textValueSelected.connect(lambda name: self.rename(folder, name))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        self.rename_dialog = dialog
        dialog.open()
        return dialog

    def rename(self, folder: Path, name: str) -> None:
        try:
            set_display_name(folder, name)
        except OSError as exc:
            self.tell("Cannot rename run", f"{folder}: {exc}")
            return
        self.refresh()
        self._emit()

    def delete(self, folders: list[Path]) -> list[Path]:
        """Move runs to the trash after asking; the run being recorded and anything outside the
        runs folder are never touched. Returns the runs removed."""
        folders = [f for f in folders if f.parent == self.root and f != self.busy_folder()]
        if not folders:
            return []
        B = QMessageBox.StandardButton
        names = "\n".join(run_info(f)["name"] + " · " + run_info(f)["time"] for f in folders[:10])
        more = f"\n… and {len(folders) - 10} more" if len(folders) > 10 else ""
        what = "this run" if len(folders) == 1 else f"these {len(folders)} runs"
        if (
            self.ask(
                "Delete runs",
                f"Move {what} to the trash?\n\n{names}{more}",
                B.Yes | B.Cancel,
                B.Cancel,
            )
            != B.Yes
        ):
            return []
        removed: list[Path] = []
        failed: list[Path] = []
        data_home = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.GenericDataLocation
        )
        if data_home:
            Path(data_home).mkdir(
                parents=True, exist_ok=True
            )  # Qt finds no trash where ~/.local/share is missing
        for folder in folders:
            trashed = QFile.moveToTrash(str(folder))
            ok = trashed[0] if isinstance(trashed, tuple) else trashed
            (removed if ok and not folder.exists() else failed).append(folder)
        if failed:
            self.tell(
                "Cannot move to the trash",
                "These runs were left where they are:\n" + "\n".join(str(f) for f in failed),
            )
        self.refresh()
        for folder in removed:
            self.run_deleted.emit(folder)
        self._emit()
        return removed
