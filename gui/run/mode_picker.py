"""The execution modes a runtime trains in: a button beside its checkbox with a menu of its modes
(engine.runtimes.Runtime.modes), any number ticked; each ticked mode is a column of its own, so
"eager + compile" trains PyTorch twice, side by side. Or "fastest": a short probe of every mode
first (engine.fastest), then the fastest one trains."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton

from engine.fastest import PROBE_STEPS
from engine.runtimes import FASTEST, MODE_SEP, column_id, runtime

GPU_ONLY = "needs a CUDA GPU (Device: CUDA)"


class ModePicker(QToolButton):
    """Which modes of ``runtime_id`` train; its default mode alone unless the user ticks more.
    At least one stays ticked: unticking the last one ticks it again."""

    changed = Signal()

    def __init__(self, runtime_id: str, parent=None) -> None:
        super().__init__(parent)
        self.runtime = runtime(runtime_id)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        self.actions_by_mode: dict[str, QAction] = {}
        for mode in self.runtime.modes:
            action = QAction(mode.id, self, checkable=True)
            action.setChecked(mode.id == self.runtime.default_mode)
            action.setToolTip(mode.summary)
            action.toggled.connect(lambda on, m=mode.id: self._toggled(m, on))
            menu.addAction(action)
            self.actions_by_mode[mode.id] = action
        menu.addSeparator()
        self.fastest = QAction(f"{FASTEST} (probe every mode first)", self, checkable=True)
        self.fastest.setToolTip(
            f"Before the run, train every mode for {PROBE_STEPS} steps and keep the one with "
            "the fastest steady step; what it tried and why it chose are in the summary"
        )
        self.fastest.toggled.connect(self._fastest_toggled)
        menu.addAction(self.fastest)
        self.setMenu(menu)
        self.set_gpu(False)
        self._show()

    def modes(self) -> tuple[str, ...]:
        """The ticked modes that can run, in the registry's order."""
        return tuple(m for m, a in self.actions_by_mode.items() if a.isChecked() and a.isEnabled())

    def columns(self) -> tuple[str, ...]:
        """The columns to train: one per ticked mode, or ``RUNTIME:fastest`` alone."""
        if self.fastest.isChecked():
            return (f"{self.runtime.id}{MODE_SEP}{FASTEST}",)
        return tuple(column_id(self.runtime.id, m) for m in self.modes())

    def set_modes(self, modes: tuple[str, ...]) -> None:
        for m, action in self.actions_by_mode.items():
            action.setChecked(m in modes)

    def set_gpu(self, available: bool) -> None:
        """Modes that replay CUDA graphs are offered only where the app found a GPU."""
        for mode in self.runtime.modes:
            if mode.cuda_only:
                action = self.actions_by_mode[mode.id]
                action.setEnabled(available)
                action.setToolTip(mode.summary + ("" if available else f"; {GPU_ONLY}"))
        self._show()

    def _toggled(self, mode: str, on: bool) -> None:
        if on and self.fastest.isChecked():
            self.fastest.setChecked(False)  # a mode chosen by hand: no probe
            return
        if not on and not self.modes() and not self.fastest.isChecked():
            self.actions_by_mode[mode].setChecked(True)  # one mode at least; re-enters with on
            return
        self._show()
        self.changed.emit()

    def _fastest_toggled(self, on: bool) -> None:
        if on:  # the probe chooses: no mode stays ticked by hand
            for action in self.actions_by_mode.values():
                action.blockSignals(True)
                action.setChecked(False)
                action.blockSignals(False)
        elif not self.modes():
            self.actions_by_mode[self.runtime.default_mode].setChecked(True)
        self._show()
        self.changed.emit()

    def _show(self) -> None:
        if self.fastest.isChecked():
            self.setText(FASTEST)
            self.setToolTip(f"{self.runtime.label}: {self.fastest.toolTip()}")
            return
        chosen = self.modes() or (self.runtime.default_mode,)
        self.setText(" + ".join(chosen))
        self.setToolTip(
            f"{self.runtime.label}: the execution modes to train, each its own column\n"
            + "\n".join(
                f"{'✓' if m.id in chosen else '  '} {m.id}: {m.summary}" for m in self.runtime.modes
            )
        )
