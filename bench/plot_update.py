"""Plot update cost: 8 live curves of 10^5 points (and 10^6) pushed with setData and repainted,
as the dashboard does on every 30 Hz tick. Prints figures; never pass/fail.

Goal (issue 5): p95 < 8 ms at 10^5 points per curve; 10^6 stays interactive (downsampled).
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def measure(n: int, repeats: int = 40) -> np.ndarray:
    from gui.run.buffers import Series
    from gui.run.plots import LivePlots

    plots = LivePlots()
    plots.resize(1000, 700)
    plots.show()
    plots.reset(("torch", "tensorflow"))
    rng = np.random.default_rng(0)
    series = {}
    for fw in ("torch", "tensorflow"):
        s = Series(capacity=n)
        s.extend({
            "step": list(range(1, n + 1)), "epoch": [1] * n, "loss": list(rng.random(n)),
            "step_time_s": list(rng.random(n) * 1e-3 + 1e-4), "samples": [32] * n, "rss_bytes": [4e8] * n,
            "device_bytes": [None] * n, "wall_s": list(np.arange(n) * 1e-3),
        })
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


def main() -> None:
    app = QApplication(sys.argv)  # noqa: F841
    for n in (10_000, 100_000, 1_000_000):
        t = measure(n, 20 if n == 1_000_000 else 40)
        curves = 2 * 8
        print(f"{n:>9,} points per curve, {curves} curves (8 per framework): update+repaint median {np.median(t):.1f} ms, "
              f"p95 {np.percentile(t, 95):.1f} ms" + ("  (goal p95 < 8 ms)" if n == 100_000 else ""))


if __name__ == "__main__":
    main()
