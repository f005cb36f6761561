"""Static charts of a run (matplotlib, no display): loss, step time, memory, throughput.

They are drawn from the run folder's files alone (``load_run``), so a separate short process
can make them: the GUI never runs matplotlib in its own process.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.style import COLORS, LABELS
from engine.summary import warmup_steps

CHARTS = ("loss", "step_time", "memory", "throughput")


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (the first points average what exists so far)."""
    if len(values) == 0 or window <= 1:
        return values
    c = np.cumsum(np.insert(values.astype(np.float64), 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


@dataclass
class RunData:
    """A run folder read back: the summary, per-step columns and epochs per framework."""

    summary: dict[str, Any]
    steps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    epochs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def load_run(folder: Path) -> RunData:
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    rows: dict[str, dict[str, list[float]]] = {}
    with open(folder / "metrics.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cols = rows.setdefault(row["framework"], {k: [] for k in ("step", "epoch", "loss", "step_time_s",
                                                                     "samples_per_s", "rss_bytes", "device_bytes")})
            for key in cols:
                value = row[key]
                cols[key].append(float(value) if value not in ("", None) else np.nan)
    steps = {fw: {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()} for fw, cols in rows.items()}
    epochs: dict[str, list[dict[str, Any]]] = {}
    with open(folder / "epochs.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            fw = row["framework"]
            epoch = int(row["epoch"])
            cols = steps.get(fw)
            ends = cols["step"][cols["epoch"] == epoch] if cols is not None else np.array([])
            epochs.setdefault(fw, []).append({
                "epoch": epoch,
                "steps": float(ends.max()) if len(ends) else float("nan"),
                **{k: (float(row[k]) if row[k] else None) for k in ("train_loss", "val_loss", "val_accuracy")},
            })
    return RunData(summary, steps, epochs)


def write_charts(run: RunData, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CHARTS:
        fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
        _draw(name, run, ax)
        ax.grid(True, alpha=0.3)
        handles, _ = ax.get_legend_handles_labels()
        if handles:
            ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        for ext in ("png", "svg"):
            path = folder / f"{name}.{ext}"
            fig.savefig(path)
            written.append(path)
        plt.close(fig)
    return written


def _draw(name: str, run: RunData, ax) -> None:
    ax.set_xlabel("step")
    for fw, cols in run.steps.items():
        steps = cols["step"]
        if len(steps) == 0 or fw not in COLORS:
            continue
        color, label = COLORS[fw], LABELS[fw]
        w = warmup_steps(len(steps))
        if name == "loss":
            loss = cols["loss"]
            ax.plot(steps, loss, color=color, alpha=0.25, lw=0.8)
            ax.plot(steps, smooth(loss, max(1, len(loss) // 50)), color=color, lw=1.6, label=f"{label} train")
            val = [(e["steps"], e["val_loss"]) for e in run.epochs.get(fw, []) if e.get("val_loss") is not None]
            if val:
                ax.plot([v[0] for v in val], [v[1] for v in val], "o--", color=color, ms=3, lw=1, label=f"{label} val")
            ax.set_ylabel("loss")
        elif name == "step_time":
            t = cols["step_time_s"] * 1e3
            ax.plot(steps[w:], t[w:], color=color, alpha=0.3, lw=0.6)
            ax.plot(steps[w:], _rolling_median(t[w:], 25), color=color, lw=1.6, label=f"{label} (rolling median)")
            if w:
                ax.plot(steps[:w], t[:w], "x", color=color, ms=4, label=f"{label} warm-up")
            ax.set_yscale("log")
            ax.set_ylabel("step time (ms)")
        elif name == "memory":
            ax.plot(steps, cols["rss_bytes"] / 2**20, color=color, lw=1.4, label=f"{label} RSS")
            dev = cols["device_bytes"]
            if np.isfinite(dev).any():
                ax.plot(steps, dev / 2**20, "--", color=color, label=f"{label} device")
            ax.set_ylabel("memory (MiB)")
        elif name == "throughput":
            rate = cols["samples_per_s"][w:]
            ax.plot(steps[w:], rate, color=color, alpha=0.3, lw=0.6)
            ax.plot(steps[w:], _rolling_median(rate, 25), color=color, lw=1.6, label=label)
            ax.set_ylabel("samples / s")
    summary = run.summary
    title = {"loss": "Loss", "step_time": "Step time", "memory": "Memory", "throughput": "Throughput"}[name]
    title += f"  ({summary.get('schedule')}, init {summary.get('init')})"
    parity = summary.get("parity") or {}
    if name == "loss" and parity.get("max_loss_abs_diff") is not None and parity.get("first_divergent_step") is None:
        title += f"\nthe two curves overlap: max |loss difference| {parity['max_loss_abs_diff']:.2g}"
    ax.set_title(title, fontsize=10)


def _rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) == 0:
        return values
    out = np.empty_like(values)
    for i in range(len(values)):
        out[i] = np.median(values[max(0, i - window + 1): i + 1])
    return out
