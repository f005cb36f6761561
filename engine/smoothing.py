"""The one smoothing of per-step curves, used live (gui.run.buffers) and in the report's charts.

The smoothed loss is a bias-corrected exponential moving average (weight ``SMOOTHING`` for the
newest loss; dividing by the accumulated weight keeps the first points from being pulled
towards zero). ``Ema`` carries its state across batches, so the dashboard extends the curve as
steps arrive and the report, drawn from metrics.csv (losses written with ``repr``, read back
exactly), computes the very same numbers in one call. Non-finite losses are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

SMOOTHING = 0.05  # EMA weight of the newest loss
MEDIAN_WINDOW = 25  # steps in the rolling median of step time and throughput


class Ema:
    """A bias-corrected EMA that can be extended batch by batch with identical results."""

    def __init__(self, weight: float = SMOOTHING) -> None:
        self.weight = weight
        self._ema = 0.0
        self._total = 0.0

    def extend(self, values: Iterable[float]) -> np.ndarray:
        """The smoothed value after each of ``values`` (NaN until a finite value has come)."""
        a = self.weight
        ema, total = self._ema, self._total
        out = []
        for v in np.asarray(values, dtype=np.float64).tolist():
            if math.isfinite(v):
                ema = (1 - a) * ema + a * v
                total = (1 - a) * total + a
            out.append(ema / total if total else math.nan)
        self._ema, self._total = ema, total
        return np.asarray(out, dtype=np.float64)


def ema_smooth(values: Iterable[float], weight: float = SMOOTHING) -> np.ndarray:
    """The whole smoothed curve of ``values`` at once (the report's charts)."""
    return Ema(weight).extend(values)
