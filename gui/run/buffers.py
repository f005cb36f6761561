"""Growing numpy buffers of one framework's figures, appended in the GUI thread.

Capacity doubles when full, so appending is amortised O(1) and plots read views without copies.
x arrays are float64, as pyqtgraph's live-plot examples recommend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.defaults import MAX_WARMUP_STEPS
from engine.events import STEP_FIELDS
from engine.smoothing import MEDIAN_WINDOW, SMOOTHING, Ema

COLUMNS = (
    "step",
    "epoch",
    "loss",
    "step_time_s",
    "samples",
    "rss_bytes",
    "device_bytes",
    "wall_s",
    "loss_smooth",
    "step_time_median_s",
    "samples_per_s",
)
__all__ = ["COLUMNS", "MEDIAN_WINDOW", "SMOOTHING", "Series"]


class Series:
    """Per-step columns of one framework's run."""

    def __init__(self, capacity: int = 1024, warmup: int = MAX_WARMUP_STEPS) -> None:
        self.warmup = warmup  # leading steps shown apart and left out of the rolling median
        self._data = {name: np.full(capacity, np.nan, dtype=np.float64) for name in COLUMNS}
        self.n = 0
        self._ema = Ema()  # the report's charts smooth with the same function (engine.smoothing)

    def extend(self, event: Mapping[str, Any]) -> None:
        """Append a batch of steps as columns of equal length (``engine.events.Steps.columns``)."""
        k = len(event["step"])
        if k == 0:
            return
        need = self.n + k
        cap = len(self._data["step"])
        if need > cap:
            new_cap = max(need, cap * 2)
            for name, arr in self._data.items():
                grown = np.full(new_cap, np.nan, dtype=np.float64)
                grown[: self.n] = arr[: self.n]
                self._data[name] = grown
        for name in STEP_FIELDS:
            values = event[name]
            if name == "device_bytes":
                values = [np.nan if v is None else v for v in values]
            self._data[name][self.n : need] = values
        self._derive(self.n, need)
        self.n = need

    def _derive(self, start: int, stop: int) -> None:
        """Smoothed loss (bias-corrected EMA), rolling median step time and throughput, new points
        only."""
        self._data["loss_smooth"][start:stop] = self._ema.extend(self._data["loss"][start:stop])
        times, medians = self._data["step_time_s"], self._data["step_time_median_s"]
        first = max(start, self.warmup)
        if first < stop:
            # window i covers times[max(warmup, i - W + 1) : i + 1]; full windows in one numpy call
            full_from = max(first, self.warmup + MEDIAN_WINDOW - 1)
            for i in range(first, min(full_from, stop)):
                medians[i] = np.median(times[self.warmup : i + 1])
            if full_from < stop:
                windows = np.lib.stride_tricks.sliding_window_view(
                    times[full_from - MEDIAN_WINDOW + 1 : stop], MEDIAN_WINDOW
                )
                medians[full_from:stop] = np.median(windows, axis=1)
        seg = slice(start, stop)
        self._data["samples_per_s"][seg] = self._data["samples"][seg] / np.maximum(
            times[seg], 1e-12
        )

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name][: self.n]

    def __len__(self) -> int:
        return self.n
