"""Static charts of a run (matplotlib, no display): loss, step time, memory, throughput."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.session import Session
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


def write_charts(session: Session, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CHARTS:
        fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
        _draw(name, session, ax)
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


def _draw(name: str, session: Session, ax) -> None:
    ax.set_xlabel("step")
    for fw, run in session.runs.items():
        steps = np.asarray(run.steps["step"], dtype=np.float64)
        if len(steps) == 0:
            continue
        color, label = COLORS[fw], LABELS[fw]
        w = warmup_steps(len(steps))
        if name == "loss":
            loss = np.asarray(run.steps["loss"], dtype=np.float64)
            ax.plot(steps, loss, color=color, alpha=0.25, lw=0.8)
            ax.plot(steps, smooth(loss, max(1, len(loss) // 50)), color=color, lw=1.6, label=f"{label} train")
            if run.epochs:
                ends = [e["steps"] for e in run.epochs if e.get("val_loss") is not None]
                vals = [e["val_loss"] for e in run.epochs if e.get("val_loss") is not None]
                if vals:
                    ax.plot(ends, vals, "o--", color=color, ms=3, lw=1, label=f"{label} val")
            ax.set_ylabel("loss")
        elif name == "step_time":
            t = np.asarray(run.steps["step_time_s"], dtype=np.float64) * 1e3
            ax.plot(steps[w:], t[w:], color=color, alpha=0.3, lw=0.6)
            ax.plot(steps[w:], _rolling_median(t[w:], 25), color=color, lw=1.6, label=f"{label} (rolling median)")
            if w:
                ax.plot(steps[:w], t[:w], "x", color=color, ms=4, label=f"{label} warm-up")
            ax.set_yscale("log")
            ax.set_ylabel("step time (ms)")
        elif name == "memory":
            rss = np.asarray(run.steps["rss_bytes"], dtype=np.float64) / 2**20
            ax.plot(steps, rss, color=color, lw=1.4, label=f"{label} RSS")
            dev = [d for d in run.steps["device_bytes"] if d is not None]
            if dev:
                ax.plot(steps[-len(dev):], np.asarray(dev) / 2**20, "--", color=color, label=f"{label} device")
            ax.set_ylabel("memory (MiB)")
        elif name == "throughput":
            t = np.asarray(run.steps["step_time_s"], dtype=np.float64)
            s = np.asarray(run.steps["samples"], dtype=np.float64)
            rate = s[w:] / np.maximum(t[w:], 1e-12)
            ax.plot(steps[w:], rate, color=color, alpha=0.3, lw=0.6)
            ax.plot(steps[w:], _rolling_median(rate, 25), color=color, lw=1.6, label=label)
            ax.set_ylabel("samples / s")
    ax.set_title({"loss": "Loss", "step_time": "Step time", "memory": "Memory",
                  "throughput": "Throughput"}[name] + f"  ({session.schedule}, init {session.init})", fontsize=10)


def _rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) == 0:
        return values
    out = np.empty_like(values)
    for i in range(len(values)):
        out[i] = np.median(values[max(0, i - window + 1): i + 1])
    return out
