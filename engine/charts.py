"""Static charts of a run (matplotlib, no display): loss, step time, memory, throughput.

They are drawn from the run folder's files alone (``load_run``), so a separate short process
can make them: the GUI never runs matplotlib in its own process.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from engine.smoothing import MEDIAN_WINDOW, ema_smooth
from engine.style import color_of, label_of
from engine.summary import warmup_steps

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CHARTS = ("loss", "step_time", "memory", "throughput")
EXPORT_CHARTS = (*CHARTS, "accuracy")  # the dashboard's "Export charts…": one per live plot
EXPORT_SIZE = (12.0, 7.0)  # inches at EXPORT_DPI: 1200 x 700 px
EXPORT_DPI = 100


@dataclass
class RunData:
    """A run folder read back: the summary, per-step columns and epochs per framework."""

    summary: dict[str, Any]
    steps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    epochs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


METRIC_COLUMNS = (
    "step",
    "epoch",
    "loss",
    "step_time_s",
    "samples_per_s",
    "rss_bytes",
    "device_bytes",
)


def read_metrics(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """metrics.csv as {framework: {column: float array}} (an empty cell reads as NaN)."""
    rows: dict[str, dict[str, list[float]]] = {}
    with open(Path(folder) / "metrics.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cols = rows.setdefault(row["framework"], {k: [] for k in METRIC_COLUMNS})
            for key in cols:
                value = row.get(key)
                cols[key].append(float(value) if value not in ("", None) else np.nan)
    return {
        fw: {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
        for fw, cols in rows.items()
    }


def load_run(folder: Path) -> RunData:
    folder = Path(folder)
    path = folder / "summary.json"  # written at the first epoch: a run just started has none yet
    summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    steps = read_metrics(folder)
    epochs: dict[str, list[dict[str, Any]]] = {}
    path = folder / "epochs.csv"
    with open(path, newline="", encoding="utf-8") if path.is_file() else _no_rows() as fh:
        for row in csv.DictReader(fh):
            fw = row["framework"]
            epoch = int(row["epoch"])
            cols = steps.get(fw)
            ends = cols["step"][cols["epoch"] == epoch] if cols is not None else np.array([])
            epochs.setdefault(fw, []).append(
                {
                    "epoch": epoch,
                    "steps": float(ends.max()) if len(ends) else float("nan"),
                    **{
                        k: (float(row[k]) if row[k] else None)
                        for k in ("train_loss", "val_loss", "val_accuracy")
                    },
                }
            )
    return RunData(summary, steps, epochs)


def _no_rows() -> IO[str]:
    import io

    return io.StringIO("framework,epoch,train_loss,val_loss,val_accuracy,epoch_time_s\n")


# Line styles of overlaid runs' loss curves, in the order the dashboard gives them.
OVERLAY_DASHES = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))


def write_charts(
    run: RunData,
    folder: Path,
    names: tuple[str, ...] = CHARTS,
    size: tuple[float, float] = (7, 3.6),
    dpi: int = 110,
    overlays: Sequence[tuple[str, RunData]] = (),
) -> list[Path]:
    """PNG and SVG of each chart. The legend sits below the axes, never over a curve.
    ``overlays``: other runs (label, data) whose smoothed loss the loss chart draws too, as the
    dashboard does when runs are selected in the Runs list."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        fig, ax = plt.subplots(figsize=size, dpi=dpi, layout="constrained")
        _draw(name, run, ax)
        if name == "loss":
            _draw_overlays(overlays, ax)
        ax.grid(True, alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            fig.legend(
                handles,
                labels,
                loc="outside lower center",
                ncols=min(len(handles), 4 if size[0] >= 10 else 2),
                frameon=False,
                fontsize=8 if size[0] < 10 else 10,
            )
        for ext in ("png", "svg"):
            path = folder / f"{name}.{ext}"
            fig.savefig(path)
            written.append(path)
        plt.close(fig)
    return written


def export_charts(
    run_dir: Path, folder: Path, overlays: Sequence[tuple[str, Path]] = ()
) -> list[Path]:
    """The dashboard's "Export charts…": every live plot as a 1200 x 700 PNG, an SVG and a CSV
    of its data, drawn from the run folder by the code that draws the run's own charts.
    ``overlays``: (label, run folder) of the runs overlaid on the dashboard's loss plot; their
    smoothed loss is drawn on the loss chart and listed in loss.csv as ``loss_smooth@LABEL``."""
    run = load_run(Path(run_dir))
    others = [(label, load_run(Path(path))) for label, path in overlays]
    written = write_charts(run, Path(folder), EXPORT_CHARTS, EXPORT_SIZE, EXPORT_DPI, others)
    for name in EXPORT_CHARTS:
        path = Path(folder) / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(("framework", "series", "step", "value"))
            rows = list(_chart_data(name, run))
            if name == "loss":
                rows += [
                    (fw, f"loss_smooth@{label}", cols["step"], ema_smooth(cols["loss"]))
                    for label, other in others
                    for fw, cols in other.steps.items()
                ]
            for fw, series, xs, ys in rows:
                for x, y in zip(xs, ys):
                    if np.isfinite(y):
                        writer.writerow((fw, series, repr(float(x)), repr(float(y))))
        written.append(path)
    return written


def export_command(
    run_dir: str, folder: str, overlays: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """The command that runs export_charts in a separate process (matplotlib never loads in the
    GUI)."""
    import os

    from engine.child_process import relaunch_command

    extra = [a for label, path in overlays for a in ("--overlay", label, os.path.abspath(path))]
    return [
        *relaunch_command("engine.charts", ["--twintrain-export-charts"]),
        os.path.abspath(run_dir),
        os.path.abspath(folder),
        *extra,
    ]


def main(argv: list[str]) -> int:
    """``python -m engine.charts RUN_DIR OUT [--overlay LABEL RUN_DIR]...``: the dashboard's
    export (also the frozen app's ``--twintrain-export-charts``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m engine.charts")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--overlay", nargs=2, action="append", default=[], metavar=("LABEL", "RUN_DIR")
    )
    args = parser.parse_args(argv)
    overlays = [(label, Path(path)) for label, path in args.overlay]
    for written in export_charts(args.run_dir, args.out, overlays):
        print(written)
    return 0


def _draw_overlays(overlays: Sequence[tuple[str, RunData]], ax: Any) -> None:
    for i, (label, other) in enumerate(overlays):
        dash = OVERLAY_DASHES[i % len(OVERLAY_DASHES)]
        for fw, cols in other.steps.items():
            if len(cols["step"]):
                ax.plot(
                    cols["step"],
                    ema_smooth(cols["loss"]),
                    linestyle=dash,
                    color=color_of(fw),
                    lw=1.2,
                    alpha=0.8,
                    label=f"run {label} · {label_of(fw)}",
                )


def _chart_data(
    name: str, run: RunData
) -> Iterator[tuple[str, str, Sequence[float] | np.ndarray, np.ndarray]]:
    """(framework, series, x, y) for each curve of a chart, as the CSV of an export holds them."""
    for fw, cols in run.steps.items():
        steps = cols["step"]
        if name == "loss":
            yield fw, "loss", steps, cols["loss"]
            yield fw, "loss_smooth", steps, ema_smooth(cols["loss"])
            val = [
                (e["steps"], e["val_loss"])
                for e in run.epochs.get(fw, [])
                if e.get("val_loss") is not None
            ]
            yield fw, "val_loss", [v[0] for v in val], np.asarray([v[1] for v in val], dtype=float)
        elif name == "step_time":
            yield fw, "step_time_ms", steps, cols["step_time_s"] * 1e3
        elif name == "memory":
            yield fw, "rss_mib", steps, cols["rss_bytes"] / 2**20
            yield fw, "device_mib", steps, cols["device_bytes"] / 2**20
        elif name == "throughput":
            yield fw, "samples_per_s", steps, cols["samples_per_s"]
        elif name == "accuracy":
            acc = [
                (e["steps"], e["val_accuracy"])
                for e in run.epochs.get(fw, [])
                if e.get("val_accuracy") is not None
            ]
            yield (
                fw,
                "val_accuracy",
                [a[0] for a in acc],
                np.asarray([a[1] for a in acc], dtype=float),
            )


def _draw(name: str, run: RunData, ax: Axes) -> None:
    ax.set_xlabel("step")
    for fw, cols in run.steps.items():
        steps = cols["step"]
        if len(steps) == 0:
            continue
        color, label = color_of(fw), label_of(fw)
        w = warmup_steps(len(steps))
        if name == "loss":
            loss = cols["loss"]
            ax.plot(steps, loss, color=color, alpha=0.25, lw=0.8)
            ax.plot(
                steps,
                ema_smooth(loss),  # the dashboard's smoothed curve (engine.smoothing)
                color=color,
                lw=1.6,
                label=f"{label} train",
            )
            val = [
                (e["steps"], e["val_loss"])
                for e in run.epochs.get(fw, [])
                if e.get("val_loss") is not None
            ]
            if val:
                ax.plot(
                    [v[0] for v in val],
                    [v[1] for v in val],
                    "o--",
                    color=color,
                    ms=3,
                    lw=1,
                    label=f"{label} val",
                )
            ax.set_ylabel("loss")
        elif name == "step_time":
            t = cols["step_time_s"] * 1e3
            ax.plot(steps[w:], t[w:], color=color, alpha=0.3, lw=0.6)
            ax.plot(
                steps[w:],
                _rolling_median(t[w:], MEDIAN_WINDOW),
                color=color,
                lw=1.6,
                label=f"{label} (rolling median)",
            )
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
            ax.plot(
                steps[w:], _rolling_median(rate, MEDIAN_WINDOW), color=color, lw=1.6, label=label
            )
            ax.set_ylabel("samples / s")
        elif name == "accuracy":
            acc = [
                (e["steps"], e["val_accuracy"])
                for e in run.epochs.get(fw, [])
                if e.get("val_accuracy") is not None
            ]
            if acc:
                ax.plot(
                    [a[0] for a in acc],
                    [a[1] for a in acc],
                    "o-",
                    color=color,
                    ms=4,
                    lw=1.4,
                    label=label,
                )
            ax.set_ylabel("validation accuracy")
    summary = run.summary
    title = {
        "loss": "Loss",
        "step_time": "Step time",
        "memory": "Memory",
        "throughput": "Throughput",
        "accuracy": "Validation accuracy",
    }[name]
    if summary.get("schedule"):
        title += f"  ({summary.get('schedule')}, init {summary.get('init')})"
    parity = summary.get("parity") or {}
    if (
        name == "loss"
        and parity.get("max_loss_abs_diff") is not None
        and parity.get("first_divergent_step") is None
    ):
        which = "the two curves" if len(run.steps) <= 2 else f"all {len(run.steps)} curves"
        title += f"\n{which} overlap: max |loss difference| {parity['max_loss_abs_diff']:.2g}"
    ax.set_title(title, fontsize=10)


def _rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) == 0:
        return values
    out = np.empty_like(values)
    for i in range(len(values)):
        out[i] = np.median(values[max(0, i - window + 1) : i + 1])
    return out


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
