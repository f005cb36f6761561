"""A place for the live plots that imports pyqtgraph only when the plots are first needed.

pyqtgraph is about a third of the app's start-up imports, and the dashboard that shows the plots
opens only when a run starts (or a past run is selected). The slot is an ordinary widget in the
dashboard's layout; the real ``LivePlots`` is built inside it the first time the slot gets a
visible region (it is painted), or the first time anything reads one of the plots' attributes
(``slot.reset(...)``, ``slot.curves``...), so callers use the slot as if it were the plots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

if TYPE_CHECKING:
    from gui.run.plots import LivePlots


PRELOAD_AFTER_MS = 1500


def _import_plots() -> None:
    import gui.run.plots  # noqa: F401 (the import is the point)


class PlotsSlot(QWidget):
    ready = Signal(object)  # the LivePlots, once built

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plots: LivePlots | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)

    def preload(self, after_ms: int = PRELOAD_AFTER_MS) -> None:
        """Import pyqtgraph once the window has been idle a while, so the first Train does not
        wait for it (about 0.5 s here) and start-up does not either."""
        QTimer.singleShot(after_ms, _import_plots)

    @property
    def built(self) -> bool:
        return self._plots is not None

    def widget(self) -> LivePlots:
        """The plots, built now if they were not yet."""
        if self._plots is None:
            from gui.run.plots import LivePlots

            self._plots = LivePlots(self)
            layout = self.layout()
            assert layout is not None  # set in __init__
            layout.addWidget(self._plots)
            self.ready.emit(self._plots)
        return self._plots

    def __getattr__(self, name: str) -> Any:
        # Only called for names the widget itself lacks: the LivePlots API (reset, curves...).
        if name.startswith("__") or name in ("_plots", "ready"):
            raise AttributeError(name)
        return getattr(self.widget(), name)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # Painted means seen: a slot inside a dashboard collapsed to zero height has a size but
        # no visible region, and is never painted.
        super().paintEvent(event)
        if self._plots is None:
            QTimer.singleShot(0, self.widget)
