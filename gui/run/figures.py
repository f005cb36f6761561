"""Live summary figures from the GUI's buffers, in the same keys as the run's summary.json,
so the live table and the final report format and compare them the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.summary import loss_parity, startup_text, steady_figures
from gui.run.buffers import Series


def live_figures(series: Series, epochs: list[dict], info: dict[str, Any]) -> dict[str, Any]:
    n = len(series)
    w = min(series.warmup, n)
    times = series["step_time_s"]
    steady = times[w:]
    samples = series["samples"][w:]
    last = epochs[-1] if epochs else {}
    rss = series["rss_bytes"]
    dev = series["device_bytes"]
    return {
        "version": info.get("version"),
        "device": info.get("device"),
        "threads": info.get("threads"),
        "startup": startup_text(info),
        "params": info.get("params"),
        "steps": n,
        "warmup_s": float(times[:w].sum()) if w else None,
        **steady_figures(steady, samples),  # the same definitions as summary.json's
        "peak_rss_bytes": float(np.nanmax(rss)) if n else None,
        "peak_device_bytes": float(np.nanmax(dev)) if n and np.isfinite(dev).any() else None,
        "final_train_loss": last.get("train_loss"),
        "final_val_loss": last.get("val_loss"),
        "final_val_accuracy": last.get("val_accuracy"),
    }


def live_parity(a: Series | None, b: Series | None) -> dict[str, Any] | None:
    if a is None or b is None or min(len(a), len(b)) == 0:
        return None
    return loss_parity(a["loss"], b["loss"])


def live_parity_of(series: dict[str, Series]) -> dict[str, Any] | None:
    """Every column's loss against the first column with points (the reference: the first
    framework of the run, PyTorch by default): the largest difference of any pair, the first
    step any pair parted at, and per column (``pairs``) its own figures."""
    names = [fw for fw, s in series.items() if len(s)]
    if len(names) < 2:
        return None
    reference = names[0]
    pairs: dict[str, dict[str, Any]] = {}
    for fw in names[1:]:
        pair = live_parity(series[reference], series[fw])
        assert pair is not None  # both series have points
        pairs[fw] = pair
    diffs = [p["max_loss_abs_diff"] for p in pairs.values() if p["max_loss_abs_diff"] is not None]
    firsts = [
        p["first_divergent_step"] for p in pairs.values() if p["first_divergent_step"] is not None
    ]
    initial = [
        p["initial_loss_abs_diff"] for p in pairs.values() if p["initial_loss_abs_diff"] is not None
    ]
    return {
        "initial_loss_abs_diff": max(initial) if initial else None,
        "max_loss_abs_diff": max(diffs) if diffs else None,
        "first_divergent_step": min(firsts) if firsts else None,
        "steps_compared": min(p["steps_compared"] for p in pairs.values()),
        "tolerance": max(p["tolerance"] or 0.0 for p in pairs.values()) or None,
        "reference": reference,
        "pairs": pairs,
    }
