"""The dashboard's growing buffers: derived columns equal a direct computation, however the
steps arrive (one big event or many small ones)."""

import numpy as np

from gui.run.buffers import MEDIAN_WINDOW, SMOOTHING, Series


def _event(t, loss, a, b):
    return {"step": list(range(a + 1, b + 1)), "epoch": [1] * (b - a), "loss": list(loss[a:b]),
            "step_time_s": list(t[a:b]), "samples": [32] * (b - a), "rss_bytes": [1e8] * (b - a),
            "device_bytes": [None] * (b - a), "wall_s": list(np.arange(a, b) * 1e-3)}


def test_derived_columns_match_direct_computation():
    rng = np.random.default_rng(1)
    n, warmup = 300, 5
    t, loss = rng.random(n) * 1e-3, rng.random(n)
    whole = Series(capacity=4, warmup=warmup)
    whole.extend(_event(t, loss, 0, n))
    pieces = Series(capacity=4, warmup=warmup)
    for a in range(0, n, 7):
        pieces.extend(_event(t, loss, a, min(a + 7, n)))
    median = np.full(n, np.nan)
    for i in range(warmup, n):
        median[i] = np.median(t[max(warmup, i - MEDIAN_WINDOW + 1): i + 1])
    ema, weight, smooth = 0.0, 0.0, np.empty(n)
    for i, v in enumerate(loss):
        ema = (1 - SMOOTHING) * ema + SMOOTHING * v
        weight = (1 - SMOOTHING) * weight + SMOOTHING
        smooth[i] = ema / weight
    for s in (whole, pieces):
        assert len(s) == n
        assert np.isnan(s["step_time_median_s"][:warmup]).all()
        np.testing.assert_allclose(s["step_time_median_s"][warmup:], median[warmup:])
        np.testing.assert_allclose(s["loss_smooth"], smooth)
        np.testing.assert_allclose(s["samples_per_s"], 32 / t)
        assert np.isnan(s["device_bytes"]).all()
    assert smooth[0] == loss[0]  # bias-corrected: the first point is not pulled towards zero
