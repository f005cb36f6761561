"""The live plots: loss, step time, throughput, memory and accuracy, one colour per framework.

Curves are created once and updated with ``setData`` from the controller's 30 Hz tick, with
clip-to-view and peak-mode auto downsampling, so 10^6 points stay interactive. The x axes are
linked and switch between step and wall time; a crosshair reads every framework at the cursor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsObject, QSizePolicy

from engine.runtimes import all_columns, mode_of
from engine.style import color_of, label_of
from gui.run.buffers import Series
from gui.run.plot_kinds import DETAILS, PLOTS, TITLES

# pyqtgraph's exit cleanup deletes graphics items behind Qt's back and segfaults at interpreter
# exit with PySide6 (Orange3 switches it off for the same reason).
pg.setConfigOptions(exitCleanup=False, antialias=False)

# Where each plot goes: (row, column, rows, columns) and each row's stretch. "tall": the loss over
# the whole width, then two rows of two. "wide", for a short dashboard (a 1280x800 window that
# keeps the canvas usable): the loss on the left over both rows, the others in two rows of two.
ARRANGEMENTS = {
    "tall": (
        {
            "legend": (0, 0, 1, 2),
            "loss": (1, 0, 1, 2),
            "step_time": (2, 0, 1, 1),
            "throughput": (2, 1, 1, 1),
            "memory": (3, 0, 1, 1),
            "accuracy": (3, 1, 1, 1),
        },
        {1: 3, 2: 2, 3: 2},
    ),
    "wide": (
        {
            "legend": (0, 0, 1, 3),
            "loss": (1, 0, 2, 1),
            "step_time": (1, 1, 1, 1),
            "throughput": (1, 2, 1, 1),
            "memory": (2, 1, 1, 1),
            "accuracy": (2, 2, 1, 1),
        },
        {1: 1, 2: 1, 3: 0},
    ),
    # "short", for a dashboard too low for two rows of readable plots (a 1280x800 window): the
    # loss and one other plot side by side at full height; the dashboard offers which one
    # (LivePlots.set_detail). The hidden three keep their curves and come back as they were.
    "short": (
        {"legend": (0, 0, 1, 2), "loss": (1, 0, 1, 1), "detail": (1, 1, 1, 1)},
        {1: 1, 2: 0, 3: 0},
    ),
}
WIDE_RATIO = 2.4  # width / height above which the plots take the "wide" arrangement
SHORT_PX = 330  # lower than this, two rows would leave each plot under ~100 px: "short"
TALL_PX = 520  # the height three rows (loss, then two of two) need to stay readable


def arrangement_for(width: int, height: int) -> str:
    """The arrangement that keeps every shown plot readable at this size: all five where they
    fit (stacked when high, two rows beside the loss when wide), else the loss and one other."""
    if height < SHORT_PX:
        return "short"
    if width > WIDE_RATIO * height:
        return "wide"
    if height >= TALL_PX:
        return "tall"
    return "wide" if width >= 1.5 * height else "short"


MAX_POINTS = 2400  # per curve: two (min, max) per pixel of a wide plot


def peak_decimate(
    x: np.ndarray,
    y: np.ndarray,
    lo: float | None = None,
    hi: float | None = None,
    max_points: int = MAX_POINTS,
) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, y) within [lo, hi], reduced to at most ~max_points by keeping each
    bucket's minimum and maximum, so spikes stay visible. x must be ascending.

    One numpy pass per update: pyqtgraph's own downsampling repeats clip, finite checks and
    decimation on every paint, which doubled the cost of a redraw at 10^5 points."""
    if lo is not None and hi is not None and len(x):
        i0 = max(0, int(np.searchsorted(x, lo)) - 1)
        i1 = min(len(x), int(np.searchsorted(x, hi, side="right")) + 1)
        x, y = x[i0:i1], y[i0:i1]
    n = len(y)
    bucket = int(np.ceil(n / (max_points // 2))) if n > max_points else 1
    if bucket == 1:
        return x, y
    m = n // bucket * bucket
    grid = y[:m].reshape(-1, bucket)
    with np.errstate(invalid="ignore"):
        low, high = np.fmin.reduce(grid, axis=1), np.fmax.reduce(grid, axis=1)
    xs = np.repeat(x[:m:bucket], 2)
    ys = np.empty(2 * len(low))
    ys[0::2], ys[1::2] = low, high
    if m < n:
        xs, ys = np.concatenate([xs, x[m:]]), np.concatenate([ys, y[m:]])
    return xs, ys


RANGE_HEADROOM = 0.25  # room to grow, as a share of the data's span, before the range moves again
RANGE_SHRINK = 0.4  # a range is narrowed once the data covers less than this share of it


def kept_range(
    current: tuple[float, float] | None,
    data: tuple[float, float] | None,
    low_headroom: float = RANGE_HEADROOM,
) -> tuple[float, float] | None:
    """The range an axis should show for data spanning ``data``, or None to keep ``current``.

    Why not pyqtgraph's auto range: it moves the axes on every redraw while a run grows, and
    a moved axis regenerates its ticks, which doubled the cost of a dashboard repaint (9 ms to
    19-23 ms here). Kept ranges move only when the data leaves them or shrinks well inside them,
    with headroom, so most redraws repaint curves only. ``data`` comes from the view's children
    bounds, which include the pens' and symbols' pixel padding: hence a little headroom below
    even for a time axis, or that padding, growing with the range, would move it every time."""
    if data is None or not all(np.isfinite(data)):
        return None
    dlo, dhi = float(data[0]), float(data[1])
    if current is not None:
        lo, hi = current
        inside = lo <= dlo and dhi <= hi
        if inside and (dhi - dlo) >= RANGE_SHRINK * (hi - lo):
            return None
    span = dhi - dlo
    if span <= 0:
        span = abs(dhi) * 0.1 or 1.0
    return dlo - span * low_headroom, dhi + span * RANGE_HEADROOM


OVERLAY_STYLES = (Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)


def _pen(fw: str, width: float = 1.0, alpha: int = 255, style=Qt.PenStyle.SolidLine):
    """One-pixel cosmetic pens: Qt's raster engine draws them several times faster than wide
    ones."""
    color = pg.mkColor(color_of(fw))
    color.setAlpha(alpha)
    return pg.mkPen(color, width=width, style=style)


TICK_GAP_PX = (
    22  # the least distance between two labelled ticks: one line of tick text and some air
)


def _gap_ok(values, lo: float, hi: float, size: float) -> bool:
    if len(values) < 2 or hi <= lo:
        return True
    return bool(np.min(np.diff(np.sort(values))) * size / (hi - lo) >= TICK_GAP_PX)


class TickAxis(pg.AxisItem):
    """An axis whose labelled ticks never overlap, whatever its height.

    pyqtgraph labels every minor tick of a log axis (0.9, 0.8, 0.7... drawn over one another on
    a short plot) and can do the same on a short linear one. Here a log axis labels decades, or
    1-2-5 or 1..9 per decade where there is room, or well-spaced plain values within a decade;
    a linear axis keeps only the tick levels that have room for their text."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        lo, hi = sorted((float(minVal), float(maxVal)))
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo or size <= 0:
            return []
        if self.logMode:
            return [(None, self.log_ticks(lo, hi, size))]
        levels = super().tickValues(lo, hi, size)
        kept = [
            (spacing, values)
            for spacing, values in levels
            if spacing * size / (hi - lo) >= TICK_GAP_PX
        ]
        if not kept and levels:  # even the coarsest level is too dense: every other tick of it
            spacing, values = levels[0]
            step = max(2, int(np.ceil(TICK_GAP_PX / (spacing * size / (hi - lo)))))
            kept = [(spacing * step, values[::step])]
        return kept

    @staticmethod
    def log_ticks(lo: float, hi: float, size: float) -> list[float]:
        """Tick positions (log10 of the values) within [lo, hi] that are TICK_GAP_PX apart."""
        first, last = int(np.floor(lo)), int(np.ceil(hi))
        best: list[float] = []
        for mantissas in ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1,)):
            values = [d + np.log10(m) for d in range(first, last + 1) for m in mantissas]
            values = [v for v in values if lo <= v <= hi]
            if _gap_ok(values, lo, hi, size):
                best = values
                break
        else:  # decades too close together: every k-th decade
            step = max(1, int(np.ceil(TICK_GAP_PX * (hi - lo) / size)))
            best = [float(d) for d in range(first, last + 1) if d % step == 0 and lo <= d <= hi]
        if len(best) >= 2:
            return best
        # within less than a decade's 1-2-5 ticks: plain values such as 0.6, 0.7, 0.8
        a, b = 10.0**lo, 10.0**hi
        for nice in _nice_steps(b - a):
            linear = np.arange(np.ceil(a / nice) * nice, b + nice * 1e-9, nice)
            ticks = np.log10(linear[linear > 0])
            if len(ticks) and _gap_ok(ticks, lo, hi, size):
                return [float(v) for v in ticks] if len(ticks) >= len(best) else best
        return best

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        if self.logMode:
            return [f"{10.0**v:.3g}" for v in values]
        return super().tickStrings(values, scale, spacing)


def _nice_steps(span: float) -> list[float]:
    """1-2-5 steps from about span/10 upwards."""
    if not span > 0:
        return [1.0]
    base = 10.0 ** np.floor(np.log10(span / 10))
    return [base * m * 10**k for k in range(3) for m in (1, 2, 5)]


class _LegendEntry(QGraphicsObject):
    """A legend entry: a short line in the curve's pen (and its symbol), then the text."""

    SAMPLE_W = 26

    def __init__(self, pen, text: str, symbol: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.pen, self.text, self.symbol = pen, text, symbol
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        metrics = QFontMetricsF(self.font)
        self._size = (self.SAMPLE_W + 5 + metrics.horizontalAdvance(text) + 2, metrics.height() + 4)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, *self._size)

    def paint(self, painter, *_args) -> None:
        h = self._size[1]
        painter.setPen(self.pen)
        painter.drawLine(QPointF(2, h / 2), QPointF(self.SAMPLE_W - 2, h / 2))
        c = QPointF(self.SAMPLE_W / 2, h / 2)
        if self.symbol == "o":
            painter.setBrush(self.pen.color())
            painter.drawEllipse(c, 3, 3)
        if self.symbol in ("x", "x*"):
            x = c - QPointF(6, 0) if self.symbol == "x*" else c
            solid = QPen(self.pen)
            solid.setStyle(Qt.PenStyle.SolidLine)
            painter.setPen(solid)
            painter.drawLine(x + QPointF(-3.5, -3.5), x + QPointF(3.5, 3.5))
            painter.drawLine(x + QPointF(-3.5, 3.5), x + QPointF(3.5, -3.5))
        if self.symbol == "x*":  # and a compile step's mark: a filled five-pointed star
            star = c + QPointF(6, 0)
            painter.setPen(QPen(self.pen.color(), 1))
            painter.setBrush(self.pen.color())
            points = [
                star + QPointF(r * math.sin(i * math.pi / 5), -r * math.cos(i * math.pi / 5))
                for i, r in zip(range(10), [5.0, 2.2] * 5)
            ]
            painter.drawPolygon(QPolygonF(points))
        painter.setPen(QColor("#333"))
        painter.setFont(self.font)
        painter.drawText(
            QRectF(self.SAMPLE_W + 5, 0, self._size[0], h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.text,
        )


class SharedLegend(pg.GraphicsWidget):
    """One legend for the whole dashboard, in a row of its own above the plots, so it never
    covers a curve: a colour per column, then what each line style means. Entries flow onto
    more rows when the plots are narrow or many columns and overlaid runs are shown."""

    GAP = 14

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[_LegendEntry] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_entries(self, entries: list[tuple]) -> None:
        """[(pen, text, symbol or None)]"""
        scene = self.scene()
        for item in self.entries:
            item.setParentItem(None)  # type: ignore[arg-type]  # None detaches; stubs miss it
            if scene is not None:
                scene.removeItem(item)
        self.entries = [_LegendEntry(pen, text, symbol, self) for pen, text, symbol in entries]
        self._flow(self.size().width())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._flow(event.newSize().width())

    def _flow(self, width: float) -> None:
        width = max(width, 100.0)
        x = y = row_h = 0.0
        for item in self.entries:
            w, h = item.boundingRect().width(), item.boundingRect().height()
            if x > 0 and x + w > width:
                x, y = 0.0, y + row_h
                row_h = 0.0
            item.setPos(x + 6, y)
            x += w + self.GAP
            row_h = max(row_h, h)
        height = y + row_h + 2 if self.entries else 0.0
        if abs(self.minimumHeight() - height) > 0.5 or abs(self.maximumHeight() - height) > 0.5:
            self.setMinimumHeight(height)
            self.setMaximumHeight(height)
            self.updateGeometry()


class LivePlots(pg.GraphicsLayoutWidget):
    keep_axes = True  # False: pyqtgraph's own auto range (bench/plot_update.py's baseline)
    arrangement_changed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.x_mode = "step"  # or "wall"
        self.detail = DETAILS[0]  # the plot beside the loss in the "short" arrangement
        self.plots: dict[str, pg.PlotItem] = {}
        self.legend = SharedLegend()  # one for every plot, in its own row: it never covers a curve
        self.addItem(self.legend, row=0, col=0, colspan=2)
        self.arrangement = "tall"
        positions = ARRANGEMENTS["tall"][0]
        for name in PLOTS:
            row, col, rs, cs = positions[name]
            plot = self.addPlot(
                row=row, col=col, rowspan=rs, colspan=cs, axisItems={"left": TickAxis("left")}
            )
            plot.setTitle(TITLES[name], size="9pt")
            plot.titleLabel.setMaximumHeight(
                20
            )  # a short dashboard keeps its height for the curves
            plot.showGrid(x=False, y=False)
            plot.setClipToView(True)  # curves get at most MAX_POINTS visible points (see _set)
            self.plots[name] = plot
            plot.sigXRangeChanged.connect(self._sync_x)
        self._arrange("tall", force=True)
        self._syncing = False
        self._epochs: dict[str, list[dict]] = {}
        self._compiles: dict[str, list[tuple[int, float]]] = {}
        self._redecimate = QTimer(self)
        self._redecimate.setSingleShot(True)
        self._redecimate.timeout.connect(
            lambda: self.update_from(self._series, self._epochs, self._compiles)
        )
        self.plots["step_time"].setLogMode(
            y=True
        )  # TF's first (tracing) step would flatten a linear axis
        self._columns: tuple[str, ...] = ()
        self._overlay_labels: list[str] = []
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.curve_plot: dict[tuple[str, str], str] = {}
        self.overlays: list[pg.PlotDataItem] = []
        self._crosshair = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine)
        )
        self._readout = pg.TextItem(
            anchor=(0, 0), color="#333", fill=pg.mkBrush(255, 255, 255, 220)
        )
        self.plots["loss"].addItem(self._crosshair, ignoreBounds=True)
        self.plots["loss"].addItem(self._readout, ignoreBounds=True)
        self._crosshair.hide()
        self._readout.hide()
        self._series: dict[str, Series] = {}
        self.scene().sigMouseMoved.connect(self._on_mouse)
        # Axis ranges: kept here (see kept_range) until the user zooms or pans a plot; the plot's
        # "A" button hands it back. x is shared by every plot; the x range of a step axis can
        # start at the run's expected length, so it does not move at all during a normal run.
        self._keep_y = set(PLOTS)
        self._keep_x = True
        self._x_hint: float | None = None
        self._setting_range = False
        self._ranges_shown: dict[str, tuple] = {}  # what keep_ranges last set: "x", or a plot's y
        for name, plot in self.plots.items():
            plot.vb.enableAutoRange(x=False, y=False)
            plot.vb.sigRangeChangedManually.connect(lambda _mask, n=name: self._user_range(n))

    def close(self) -> bool:
        """pyqtgraph's close clears the scene, curves included: no redraw may come after it."""
        self._redecimate.stop()
        self._series = {}
        return super().close()

    # ---- curves ------------------------------------------------------------------------------

    def reset(self, frameworks, expected_steps: int = 0) -> None:
        """Start a new run: one set of curves per framework, reused for every update; the axes
        are the app's again (a zoom of the last run is forgotten)."""
        self._keep_y, self._keep_x = set(PLOTS), True
        self._x_hint = float(expected_steps) if expected_steps > 0 else None
        self._ranges_shown = {}
        for key, item in self.curves.items():
            self.plots[self.curve_plot[key]].removeItem(item)
        self.curves.clear()
        self._columns = tuple(frameworks)
        self._fill_legend()
        for fw in frameworks:
            add = self._add
            add(fw, "loss_raw", "loss", pen=_pen(fw, 1, 60))
            add(fw, "loss", "loss", pen=_pen(fw))
            add(
                fw,
                "val_loss",
                "loss",
                pen=_pen(fw, style=Qt.PenStyle.DashLine),
                symbol="o",
                symbolSize=6,
                symbolBrush=color_of(fw),
            )
            add(fw, "step_time_raw", "step_time", pen=_pen(fw, 1, 50))
            add(fw, "step_time", "step_time", pen=_pen(fw))
            add(fw, "warmup", "step_time", pen=None, symbol="x", symbolSize=8, symbolPen=_pen(fw))
            add(
                fw,
                "compile",
                "step_time",
                pen=None,
                symbol="star",
                symbolSize=13,
                symbolPen=_pen(fw),
                symbolBrush=color_of(fw),
            )
            add(fw, "throughput_raw", "throughput", pen=_pen(fw, 1, 50))
            add(fw, "throughput", "throughput", pen=_pen(fw))
            add(fw, "rss", "memory", pen=_pen(fw))
            add(fw, "device", "memory", pen=_pen(fw, style=Qt.PenStyle.DashLine))
            add(
                fw,
                "accuracy",
                "accuracy",
                pen=_pen(fw),
                symbol="o",
                symbolSize=6,
                symbolBrush=color_of(fw),
            )
        self._series = {}

    def _fill_legend(self) -> None:
        """Colour per column; grey samples for what each line style means; one per overlaid run."""
        grey = "#555555"
        entries: list[tuple[Any, str, str | None]] = [
            (_pen(fw, 2), label_of(fw), None) for fw in self._columns
        ]
        entries += [
            (pg.mkPen(grey, width=2), "smoothed", None),
            (pg.mkPen(QColor(85, 85, 85, 70), width=1), "per step", None),
            (pg.mkPen(grey, width=1, style=Qt.PenStyle.DashLine), "validation · GPU mem", "o"),
            # one entry for both first-steps marks, so a short dashboard's legend stays one row
            (pg.mkPen(grey, width=1), "warm-up · compile", "x*")
            if any(mode_of(fw).compiles for fw in self._columns if fw in all_columns())
            else (pg.mkPen(grey, width=1), "warm-up", "x"),
        ]
        entries += [
            (
                pg.mkPen(grey, width=1, style=OVERLAY_STYLES[i % len(OVERLAY_STYLES)]),
                f"run {label}",
                None,
            )
            for i, label in enumerate(self._overlay_labels)
        ]
        self.legend.set_entries(entries)

    def _add(self, fw: str, key: str, plot: str, **style) -> None:
        item = self.plots[plot].plot([], [], **style)
        self.curves[(fw, key)] = item
        self.curve_plot[(fw, key)] = plot

    def _sync_x(self, source, _range=None) -> None:
        """Give every plot the same x range (pyqtgraph's setXLink maps by screen position, which
        shifts the range of plots that sit side by side)."""
        if self._syncing:
            return
        self._syncing = True
        try:
            lo, hi = source.viewRange()[0]
            for plot in self.plots.values():
                if plot.vb is not source and plot is not source:
                    plot.setXRange(lo, hi, padding=0)
        finally:
            self._syncing = False
        user_zoomed = not self._keep_x
        if self._series and user_zoomed and not self._redecimate.isActive():
            self._redecimate.start(60)  # after a zoom or pan settles, refill the visible range

    def set_x_mode(self, mode: str) -> None:
        self.x_mode = mode
        self._keep_x = True
        self._ranges_shown = {}
        self._label_x()

    def positions(self, arrangement: str | None = None) -> dict[str, tuple[int, int, int, int]]:
        """Where the legend and each shown plot go: (row, column, rows, columns)."""
        positions = dict(ARRANGEMENTS[arrangement or self.arrangement][0])
        if "detail" in positions:
            positions[self.detail] = positions.pop("detail")
        return positions

    def set_detail(self, name: str) -> None:
        """Which plot the "short" arrangement shows beside the loss."""
        if name not in DETAILS:
            raise ValueError(f"no plot {name!r} to show beside the loss; one of {DETAILS}")
        self.detail = name
        if self.arrangement == "short":
            self._arrange("short", force=True)

    def _label_x(self) -> None:
        """The x axes are shared: only the plots at the bottom of the layout say what x is."""
        positions = self.positions()
        bottom = max(r + rs for r, _c, rs, _cs in positions.values())
        text = "step" if self.x_mode == "step" else "wall time (s)"
        for name, plot in self.plots.items():
            if name not in positions:
                continue
            r, _c, rs, _cs = positions[name]
            if r + rs == bottom:
                plot.getAxis("bottom").setLabel(text)
            else:
                plot.getAxis("bottom").showLabel(False)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event is not None and hasattr(
            self, "plots"
        ):  # pyqtgraph calls it with None while building
            size = event.size()
            self._arrange(arrangement_for(size.width(), size.height()))
        super().resizeEvent(event)

    def _arrange(self, arrangement: str, force: bool = False) -> None:
        """Move the legend and the plots to an arrangement (pyqtgraph's own bookkeeping of the
        grid is used only while the layout is built, so the Qt layout is rearranged directly)."""
        if arrangement == self.arrangement and not force:
            return
        changed = arrangement != self.arrangement
        self.arrangement = arrangement
        stretches = ARRANGEMENTS[arrangement][1]
        positions = self.positions()
        layout = self.ci.layout
        items = {"legend": self.legend, **self.plots}
        for item in items.values():
            for i in range(layout.count()):
                if layout.itemAt(i) is item:
                    layout.removeAt(i)
                    break
        for name, item in items.items():
            if name in positions:
                layout.addItem(item, *positions[name])
                item.show()
            else:
                item.hide()
        for row in range(4):
            layout.setRowStretchFactor(row, stretches.get(row, 0))
        for col, stretch in enumerate((4, 3, 3) if arrangement == "wide" else (1, 1, 0)):
            layout.setColumnStretchFactor(
                col, stretch
            )  # wide: the loss a little wider than the others
        self._label_x()
        layout.activate()
        if changed:
            self.arrangement_changed.emit(arrangement)

    def set_log_loss(self, on: bool) -> None:
        self.plots["loss"].setLogMode(y=on)
        self._keep_y.add("loss")
        self._ranges_shown.pop("loss", None)
        self.keep_ranges()

    def update_from(
        self,
        series: dict[str, Series],
        epochs: dict[str, list[dict]],
        compiles: dict[str, list[tuple[int, float]]] | None = None,
    ) -> None:
        """Push the buffers into the curves (called from the controller's tick); ``compiles``:
        per column, (step, step time) of each step that compiled, marked with a star."""
        self._series, self._epochs = series, epochs
        self._compiles = compiles or {}
        vb = self.plots["loss"].vb
        lo = hi = None
        if not self._keep_x:  # the user zoomed or panned: decimate what is visible
            lo, hi = vb.viewRange()[0]
        put = self._put
        for fw, s in series.items():
            if (fw, "loss") not in self.curves or len(s) == 0:
                continue
            x = s["step"] if self.x_mode == "step" else s["wall_s"]
            w = min(s.warmup, len(s))
            put(fw, "loss_raw", x, s["loss"], lo, hi)
            put(fw, "loss", x, s["loss_smooth"], lo, hi)
            t = s["step_time_s"] * 1e3
            put(fw, "step_time_raw", x[w:], t[w:], lo, hi)
            put(fw, "step_time", x[w:], s["step_time_median_s"][w:] * 1e3, lo, hi)
            self.curves[(fw, "warmup")].setData(x[:w], t[:w])
            marks = [(st, ms) for st, ms in self._compiles.get(fw, ()) if st <= len(s)]
            self.curves[(fw, "compile")].setData(
                [float(x[st - 1]) for st, _ in marks], [ms * 1e3 for _, ms in marks]
            )
            put(fw, "throughput_raw", x[w:], s["samples_per_s"][w:], lo, hi)
            median = s["step_time_median_s"][w:]
            batch = s["samples"][w:]
            put(fw, "throughput", x[w:], batch / np.where(median > 0, median, np.nan), lo, hi)
            put(fw, "rss", x, s["rss_bytes"] / 2**20, lo, hi)
            dev = s["device_bytes"]
            if np.isfinite(dev).any():
                put(fw, "device", x, dev / 2**20, lo, hi)
            ep = [e for e in epochs.get(fw, []) if e.get("val_loss") is not None]
            if ep:
                ex = self._epoch_x(s, ep)
                self.curves[(fw, "val_loss")].setData(ex, [e["val_loss"] for e in ep])
                acc = [
                    (xx, e["val_accuracy"])
                    for xx, e in zip(ex, ep)
                    if e.get("val_accuracy") is not None
                ]
                if acc:
                    self.curves[(fw, "accuracy")].setData([a for a, _ in acc], [b for _, b in acc])
        self.keep_ranges()

    # ---- axis ranges -------------------------------------------------------------------------

    def _user_range(self, name: str) -> None:
        """The user zoomed or panned this plot: its y range and the shared x range are theirs."""
        if not self._setting_range:
            self._keep_y.discard(name)
            self._keep_x = False

    def keep_ranges(self) -> None:
        """Move the axes only where the data needs it (kept_range); pyqtgraph's auto range, where
        the user asked for it with a plot's "A" button, becomes ours again."""
        if not self.keep_axes:
            for plot in self.plots.values():
                plot.vb.enableAutoRange(x=True, y=True)
            return
        for name, plot in self.plots.items():
            auto_x, auto_y = plot.vb.autoRangeEnabled()
            if auto_x or auto_y:
                plot.vb.enableAutoRange(x=False, y=False)
                self._keep_y.add(name)
                self._keep_x = self._keep_x or bool(auto_x)
                self._ranges_shown.pop(name, None)
        self._setting_range = True
        try:
            if self._keep_x:
                data = self._x_extent()
                if data is not None and self.x_mode == "step":
                    data = (0.0, data[1])  # steps count from 1; the axis from 0
                    if (
                        self._x_hint and data[1] <= self._x_hint
                    ):  # the whole run at once, a symbol's width spare
                        data = (0.0, self._x_hint * 1.02 / (1 + RANGE_HEADROOM))
                current = self._ranges_shown.get("x")
                new = kept_range(current, data, low_headroom=0.0 if self.x_mode == "step" else 0.02)
                if new is not None and new != current:
                    self._ranges_shown["x"] = new
                    self.plots["loss"].setXRange(*new, padding=0)  # _sync_x gives it to every plot
            for name in self._keep_y:  # after x: with clip to view, y bounds are the visible data's
                data = self._y_extent(name)
                current = self._ranges_shown.get(name)
                new = kept_range(current, data)
                if new is not None and new != current:
                    self._ranges_shown[name] = new
                    self.plots[name].setYRange(*new, padding=0)
        finally:
            self._setting_range = False

    def _y_extent(self, name: str) -> tuple[float, float] | None:
        """The y the curves of a plot span within the x range shown, without the pixel padding of
        pens and symbols that the view's children bounds add: on a short plot that padding is a
        large share of the range, and a range grown by it grew again at the next redraw (a step
        time axis ended up spanning ten decades)."""
        plot = self.plots[name]
        x_range = plot.vb.viewRange()[0]
        spans = []
        for item in plot.listDataItems():
            if not item.isVisible():
                continue
            bounds = item.dataBounds(1, orthoRange=x_range)
            if bounds is not None and bounds[0] is not None and np.isfinite(bounds).all():
                spans.append(bounds)
        return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None

    def _x_extent(self) -> tuple[float, float] | None:
        """The x the data spans, from the buffers and overlays themselves: a plot's own bounds
        see only what is in view (clip to view), so they could never tell the axis to grow."""
        spans = []
        for s in self._series.values():
            if len(s):
                x = s["step"] if self.x_mode == "step" else s["wall_s"]
                spans.append((float(x[0]), float(x[-1])))
        for item in self.overlays:
            x = item.xData
            if x is not None and len(x):
                spans.append((float(np.nanmin(x)), float(np.nanmax(x))))
        return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None

    def _put(self, fw: str, key: str, x: np.ndarray, y: np.ndarray, lo, hi) -> None:
        self.curves[(fw, key)].setData(*peak_decimate(x, y, lo, hi))

    def _epoch_x(self, s: Series, ep: list[dict]) -> list[float]:
        if self.x_mode == "step":
            return [float(e["steps"]) for e in ep]
        steps = s["step"]
        wall = s["wall_s"]
        return [float(wall[min(np.searchsorted(steps, e["steps"]), len(wall) - 1)]) for e in ep]

    # ---- comparing runs ----------------------------------------------------------------------

    def set_overlays(
        self, runs: list[tuple[str, dict[str, tuple[np.ndarray, np.ndarray]]]]
    ) -> None:
        """Overlay other runs' loss curves: [(label, {framework: (steps, loss)})]."""
        for item in self.overlays:
            self.plots["loss"].removeItem(item)
        self.overlays = []
        self._overlay_labels = [label for label, _ in runs]
        for i, (_label, curves) in enumerate(runs):
            style = OVERLAY_STYLES[i % len(OVERLAY_STYLES)]
            for fw, (x, y) in curves.items():
                item = self.plots["loss"].plot(x, y, pen=_pen(fw, 1, 200, style))
                self.overlays.append(item)
        self._fill_legend()
        self._ranges_shown.pop("x", None)
        self._ranges_shown.pop("loss", None)
        self.keep_ranges()

    # ---- crosshair ---------------------------------------------------------------------------

    def _on_mouse(self, pos) -> None:
        plot = self.plots["loss"]
        if not plot.sceneBoundingRect().contains(pos) or not self._series:
            self._crosshair.hide()
            self._readout.hide()
            return
        point: QPointF = plot.vb.mapSceneToView(pos)
        self._crosshair.setPos(point.x())
        self._crosshair.show()
        self._readout.setText(self.readout_at(point.x()))
        self._readout.setPos(point.x(), point.y())
        self._readout.show()

    def readout_at(self, x: float) -> str:
        """'step N' and each framework's loss at the nearest point to x."""
        lines = []
        for fw, s in self._series.items():
            if len(s) == 0:
                continue
            xs = s["step"] if self.x_mode == "step" else s["wall_s"]
            i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            lines.append(
                f"{label_of(fw)}: step {int(s['step'][i])}, loss {s['loss'][i]:.5g}, "
                f"{s['step_time_s'][i] * 1e3:.3f} ms"
            )
        return "\n".join(lines)
