"""Plot update cost, as the dashboard pays it on a 30 Hz tick: new data pushed with setData
into reused curves (clip-to-view, peak downsampling), then a full repaint. Prints figures;
never pass/fail.

Two set-ups: the issue's (8 curves of N points in one plot widget) and the whole dashboard
(both frameworks: every curve of the five plots). Goal (issue 5): p95 < 8 ms for 8 curves of
10^5 points; 10^6 points stays interactive (downsampled). A third set-up grows the data
between redraws as a run does, with pyqtgraph's auto range as the baseline against the
dashboard's kept axis ranges.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.runtimes import DEFAULT_RUNTIMES  # noqa: E402


def measure(n: int, repeats: int = 40) -> np.ndarray:
    from gui.run.buffers import Series
    from gui.run.plots import LivePlots

    plots = LivePlots()
    plots.resize(1000, 700)
    plots.show()
    plots.reset(DEFAULT_RUNTIMES)
    rng = np.random.default_rng(0)
    series = {}
    for fw in DEFAULT_RUNTIMES:
        s = Series(capacity=n)
        s.extend(
            {
                "step": list(range(1, n + 1)),
                "epoch": [1] * n,
                "loss": list(rng.random(n)),
                "step_time_s": list(rng.random(n) * 1e-3 + 1e-4),
                "samples": [32] * n,
                "rss_bytes": [4e8] * n,
                "device_bytes": [None] * n,
                "wall_s": list(np.arange(n) * 1e-3),
            }
        )
        series[fw] = s
    app = QApplication.instance()
    app.processEvents()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        plots.update_from(series, {})
        plots.repaint()
        app.processEvents()
        times.append(time.perf_counter() - t0)
    plots.close()
    return np.asarray(times[3:]) * 1e3


def measure_eight(n: int, repeats: int = 40, keep_axes: bool = True) -> np.ndarray:
    """8 curves of n points in one plot, fed like the dashboard's: decimated to the visible
    min/max per pixel (gui.run.plots.peak_decimate), clip to view, and (``keep_axes``) the
    dashboard's kept axis ranges; the data moves a little between redraws. ``keep_axes=False``
    leaves pyqtgraph's auto range on: the baseline."""
    import pyqtgraph as pg

    from engine.style import COLORS
    from gui.run.plots import kept_range, peak_decimate

    widget = pg.PlotWidget()
    widget.resize(1000, 500)
    widget.show()
    plot = widget.getPlotItem()
    plot.setClipToView(True)
    colors = list(COLORS.values())
    curves = [plot.plot([], [], pen=pg.mkPen(colors[i % 2])) for i in range(8)]
    rng = np.random.default_rng(0)
    x = np.arange(n, dtype=np.float64)
    ys = [np.cumsum(rng.normal(size=n)) for _ in range(8)]
    lo, hi = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
    shown = None
    if keep_axes:
        plot.disableAutoRange()
        plot.setXRange(0, n, padding=0)
    app = QApplication.instance()
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        for c, y in zip(curves, ys):
            c.setData(*peak_decimate(x, y + r))
        if keep_axes:
            new = kept_range(shown, (lo + r, hi + r))
            if new is not None:
                plot.setYRange(*new, padding=0)
                shown = new
        widget.repaint()
        app.processEvents()
        times.append(time.perf_counter() - t0)
    widget.close()
    return np.asarray(times[3:]) * 1e3


def measure_growing(keep_axes: bool, total: int = 3000, per_frame: int = 25) -> np.ndarray:
    """The dashboard during a run: both frameworks' series grow by ``per_frame`` steps before
    each redraw (a fast run at 30 Hz), so the data's extent changes on every frame."""
    from gui.run.buffers import Series
    from gui.run.plots import LivePlots

    plots = LivePlots()
    plots.keep_axes = keep_axes
    plots.resize(1000, 700)
    plots.show()
    plots.reset(DEFAULT_RUNTIMES, expected_steps=total)
    rng = np.random.default_rng(0)
    series = {fw: Series(capacity=total) for fw in DEFAULT_RUNTIMES}
    app = QApplication.instance()
    app.processEvents()
    times = []
    for start in range(0, total, per_frame):
        steps = np.arange(start + 1, start + per_frame + 1)
        for s in series.values():
            s.extend(
                {
                    "step": list(steps),
                    "epoch": [1] * per_frame,
                    "loss": list(2.3 * np.exp(-steps / 800) + rng.random(per_frame) * 0.1),
                    "step_time_s": list(rng.random(per_frame) * 1e-3 + 1e-4),
                    "samples": [32] * per_frame,
                    "rss_bytes": list(4e8 + steps * 1e4),
                    "device_bytes": [None] * per_frame,
                    "wall_s": list(steps * 1e-3),
                }
            )
        t0 = time.perf_counter()
        plots.update_from(series, {})
        plots.repaint()
        app.processEvents()
        times.append(time.perf_counter() - t0)
    plots.close()
    return np.asarray(times[3:]) * 1e3


def main() -> None:
    app = QApplication(sys.argv)  # noqa: F841
    for n in (100_000, 1_000_000):
        repeats = 20 if n == 1_000_000 else 40
        base, t = measure_eight(n, repeats, keep_axes=False), measure_eight(n, repeats)
        print(
            f"8 curves x {n:>9,} points: update+repaint median {np.median(t):.1f} ms, "
            f"p95 {np.percentile(t, 95):.1f} ms"
            + ("  (goal p95 < 8 ms)" if n == 100_000 else "  (goal: interactive)")
            + f"; with pyqtgraph's auto range: median {np.median(base):.1f} ms, "
            f"p95 {np.percentile(base, 95):.1f} ms "
            f"({np.median(base) / np.median(t):.2f}x)"
        )
    for n in (10_000, 100_000):
        t = measure(n, 30)
        print(
            f"whole dashboard, both frameworks, {n:>7,} steps each: "
            f"update+repaint median {np.median(t):.1f} ms, "
            f"p95 {np.percentile(t, 95):.1f} ms"
        )
    base, kept = measure_growing(False), measure_growing(True)
    print(
        f"whole dashboard during a run (3,000 steps, 25 per redraw): pyqtgraph auto range median "
        f"{np.median(base):.1f} ms, p95 {np.percentile(base, 95):.1f} ms; "
        f"kept ranges median {np.median(kept):.1f} ms, "
        f"p95 {np.percentile(kept, 95):.1f} ms ({np.median(base) / np.median(kept):.2f}x faster)"
    )


if __name__ == "__main__":
    main()
