"""The Runs panel: every run kept in the data folder; select runs to overlay their curves."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

PATH_ROLE = Qt.ItemDataRole.UserRole


def describe_run(folder: Path) -> str:
    """'project · 2026-11-23 18:04 · both finished' from a run folder (tolerates partial runs)."""
    name, state = folder.name, "incomplete"
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        name = summary.get("project", name)
        states = ["failed" if "error" in f else f.get("status", "finished") for f in summary["frameworks"].values()]
        state = ", ".join(f"{fw} {s}" for fw, s in zip(summary["frameworks"], states))
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    stamp = "-".join(folder.name.split("-")[-3:-1]) if folder.name.count("-") >= 3 else ""
    return f"{name} · {stamp} · {state}"


def load_loss_curves(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{framework: (steps, loss)} from a run folder's metrics.csv."""
    steps: dict[str, list[float]] = {}
    losses: dict[str, list[float]] = {}
    try:
        with open(folder / "metrics.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                fw = row["framework"]
                steps.setdefault(fw, []).append(float(row["step"]))
                losses.setdefault(fw, []).append(float(row["loss"]))
    except (OSError, ValueError, KeyError):
        return {}
    return {fw: (np.asarray(steps[fw]), np.asarray(losses[fw])) for fw in steps}


class RunsPanel(QWidget):
    selection_changed = Signal(list)  # list[Path]

    def __init__(self, root: Path, parent=None) -> None:
        super().__init__(parent)
        self.root = root
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setToolTip("Select runs to overlay their loss curves on the plots")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.list)
        self.list.itemSelectionChanged.connect(self._emit)
        self.refresh()

    def refresh(self) -> None:
        selected = {p for p in self.selected()}
        self.list.blockSignals(True)
        self.list.clear()
        folders = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True) \
            if self.root.is_dir() else []
        for folder in folders:
            item = QListWidgetItem(describe_run(folder))
            item.setData(PATH_ROLE, str(folder))
            item.setToolTip(str(folder))
            self.list.addItem(item)
            item.setSelected(folder in selected)
        self.list.blockSignals(False)

    def selected(self) -> list[Path]:
        return [Path(i.data(PATH_ROLE)) for i in self.list.selectedItems()]

    def folders(self) -> list[Path]:
        return [Path(self.list.item(i).data(PATH_ROLE)) for i in range(self.list.count())]

    def _emit(self) -> None:
        self.selection_changed.emit(self.selected())
