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
