"""The dashboard's growing buffers: derived columns equal a direct computation, however the
steps arrive (one big event or many small ones)."""

import numpy as np

from gui.run.buffers import MEDIAN_WINDOW, SMOOTHING, Series


def _event(t, loss, a, b):
    return {
        "step": list(range(a + 1, b + 1)),
        "epoch": [1] * (b - a),
        "loss": list(loss[a:b]),
        "step_time_s": list(t[a:b]),
        "samples": [32] * (b - a),
        "rss_bytes": [1e8] * (b - a),
        "device_bytes": [None] * (b - a),
        "wall_s": list(np.arange(a, b) * 1e-3),
    }


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
        median[i] = np.median(t[max(warmup, i - MEDIAN_WINDOW + 1) : i + 1])
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


def test_peak_decimation_keeps_every_spike_and_the_visible_range():
    from gui.run.plots import MAX_POINTS, peak_decimate

    n = 100_000
    x = np.arange(n, dtype=np.float64)
    y = np.zeros(n)
    y[12_345], y[77_777] = 5.0, -3.0
    y[500] = np.nan
    xs, ys = peak_decimate(x, y)
    assert len(xs) <= MAX_POINTS + MAX_POINTS // 2 and len(xs) == len(ys)
    assert np.nanmax(ys) == 5.0 and np.nanmin(ys) == -3.0  # spikes survive decimation
    assert np.all(np.diff(xs) >= 0)
    xs, ys = peak_decimate(x, y, 1000.0, 1100.0)
    assert (
        xs[0] <= 1000.0 <= 1100.0 <= xs[-1] and len(xs) <= 103
    )  # only the visible part, at full detail
    small_x, small_y = peak_decimate(x[:50], y[:50])
    assert small_x is not None and len(small_x) == 50


def test_live_smoothed_loss_is_the_reports(tmp_path):
    """The dashboard's smoothed loss (built batch by batch) and the report's (engine.charts,
    drawn from metrics.csv) are one function's values: the same curve, not a look-alike."""
    import csv

    from engine.charts import _chart_data, load_run
    from engine.smoothing import ema_smooth

    rng = np.random.default_rng(7)
    n = 400
    t, loss = rng.random(n) * 1e-3 + 1e-4, np.exp(-np.arange(n) / 80) + rng.random(n) * 0.3
    loss[123] = np.nan  # a non-finite loss is skipped, live and in the report alike
    live = Series(capacity=4)
    for a in range(0, n, 13):
        live.extend(_event(t, loss, a, min(a + 13, n)))
    reference = ema_smooth(loss)
    np.testing.assert_allclose(live["loss_smooth"], reference, rtol=0, atol=1e-12)
    assert reference[0] == loss[0] and np.isfinite(reference).all()
    with open(tmp_path / "metrics.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)  # as engine.run_folder.RunRecorder writes it: losses with repr
        writer.writerow(("framework", "epoch", "step", "loss", "step_time_s", "samples_per_s"))
        for i in range(n):
            writer.writerow(("torch", 1, i + 1, repr(float(loss[i])), f"{t[i]:.9f}", "1.0"))
    curves = {s: y for _, s, _, y in _chart_data("loss", load_run(tmp_path))}
    np.testing.assert_allclose(curves["loss_smooth"], live["loss_smooth"], rtol=0, atol=1e-12)
