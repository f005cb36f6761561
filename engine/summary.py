"""Figures of a run: per-framework steady-state timings, memory, losses, and loss parity.

Warm-up (the first steps, where TF traces its function and caches fill) is reported apart and
excluded from medians and throughput, so the figures describe steady state. Throughput is
defined once, from the same steady steps as the median step time (``steady_figures``), so the
two rows can never point opposite ways.
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import numpy as np
from numpy.typing import ArrayLike

from engine.compile_figures import break_even, compile_figures, steady_mask, steady_start
from engine.defaults import MAX_WARMUP_STEPS
from engine.session import FrameworkRun, Session, available_cores, schedule_text, waves
from engine.spec.project import Project

FORMAT = "twintrain-run/1"


def warmup_steps(total: int) -> int:
    """How many leading steps count as warm-up: up to 5, never more than a tenth of the run."""
    return min(MAX_WARMUP_STEPS, max(1, total // 10)) if total > 1 else 0


def steady_figures(times: ArrayLike, samples: ArrayLike) -> dict[str, float | None]:
    """Step-time and throughput figures of the steady steps (warm-up already left out).

    ``samples_per_s`` is the mean samples per step over the median step time: the throughput of a
    typical step, from the same steps as the median, so it ranks the frameworks exactly as the
    median step does (both train on the same batches). ``samples_per_s_overall`` is all steady
    samples over all steady step time, which a few slow steps (a pause, a collection) pull down.
    """
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(samples, dtype=np.float64)
    if not len(t):
        return {
            "step_time_median_s": None,
            "step_time_p95_s": None,
            "samples_per_s": None,
            "samples_per_s_overall": None,
        }
    median = float(np.median(t))
    total = float(t.sum())
    return {
        "step_time_median_s": _num(median),
        "step_time_p95_s": _num(np.percentile(t, 95)),
        "samples_per_s": _num(s.mean() / median) if median > 0 else None,
        "samples_per_s_overall": _num(s.sum() / total) if total > 0 else None,
    }


def framework_summary(run: FrameworkRun) -> dict[str, Any]:
    if run.error:
        out: dict[str, Any] = {"error": run.error}
        if run.info:
            out.update(version=run.info.get("version"), device=run.info.get("device"))
        out["steps"] = len(run.steps["step"])
        return out
    times = np.asarray(run.steps["step_time_s"], dtype=np.float64)
    samples = np.asarray(run.steps["samples"], dtype=np.float64)
    n = len(times)
    w = warmup_steps(n)
    mask = steady_mask(n, steady_start(n, w, run.compiles), run.compiles)
    steady_t, steady_s = times[mask], samples[mask]
    steady = steady_figures(steady_t, steady_s)
    last_epoch = run.epochs[-1] if run.epochs else {}
    info = run.info
    return {
        "version": info.get("version"),
        "device": info.get("device"),
        "device_note": info.get("device_note"),
        "threads": info.get("threads", run.threads),
        "cores": run.cores,
        "nice": info.get(
            "nice"
        ),  # the worker's niceness: the app lowers its workers below the window
        "params": info.get("params"),
        "steps": n,
        "warmup_steps": w,
        "warmup_s": _num(times[:w].sum()) if w else 0.0,
        "import_s": info.get("import_s"),
        "setup_s": info.get("setup_s"),
        "prestarted": bool(info.get("prestarted")),
        "preload_s": info.get("preload_s"),
        "startup": startup_text(info),
        "steady_steps": int(mask.sum()),
        **steady,
        **compile_figures(run.name, times, run.compiles, steady["step_time_median_s"]),
        "peak_rss_bytes": run.done.get("peak_rss_bytes")
        or (max(run.steps["rss_bytes"]) if n else None),
        "peak_device_bytes": run.done.get("peak_device_bytes"),
        "final_train_loss": _num(last_epoch.get("train_loss")),
        "final_val_loss": _num(last_epoch.get("val_loss")),
        "final_val_accuracy": _num(last_epoch.get("val_accuracy")),
        "status": run.status,
    }


def parity(session: Session) -> dict[str, Any] | None:
    """Every runtime's loss curve against the reference (the first chosen): ``pairs`` holds
    each comparison, and the top-level figures (today's keys, so a user's scripts keep reading
    them) are the worst over the pairs: with two runtimes, exactly that pair's."""
    names = list(session.runs)
    if len(names) < 2:
        return None
    reference = names[0]
    a = np.asarray(session.runs[reference].steps["loss"], dtype=np.float64)
    pairs = {
        other: loss_parity(a, np.asarray(session.runs[other].steps["loss"], dtype=np.float64))
        for other in names[1:]
    }
    figures = worst_parity(list(pairs.values()))
    parted = figures["first_divergent_step"] is not None
    return {
        **figures,
        "notes": parity_notes(session.project, session.init, session.optimizer, parted=parted),
        "reference": reference,
        "pairs": pairs,
    }


def worst_parity(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """loss_parity's keys over several pairs: the largest differences, the earliest parting, the
    fewest steps compared, and the tolerance of the pair that differs most."""
    if len(pairs) == 1:
        return dict(pairs[0])
    diffs = [p for p in pairs if p["max_loss_abs_diff"] is not None]
    worst = max(diffs, key=lambda p: p["max_loss_abs_diff"]) if diffs else pairs[0]
    initial = [p["initial_loss_abs_diff"] for p in pairs if p["initial_loss_abs_diff"] is not None]
    parted = [p["first_divergent_step"] for p in pairs if p["first_divergent_step"] is not None]
    return {
        "initial_loss_abs_diff": max(initial) if initial else None,
        "max_loss_abs_diff": worst["max_loss_abs_diff"],
        "first_divergent_step": min(parted) if parted else None,
        "steps_compared": min(p["steps_compared"] for p in pairs),
        "tolerance": worst["tolerance"],
    }


# Where each framework's stock optimizer computes differently (native mode); SGD with a constant
# learning rate is the same update written two ways, so it has no entry.
NATIVE_OPTIMIZER_DIFFERENCES = {
    "adam": "Adam: Keras adds epsilon to sqrt(v) before the bias correction, PyTorch after it",
    "adamw": "AdamW: Keras adds epsilon to sqrt(v) before the bias correction, PyTorch after it",
    "rmsprop": "RMSprop: Keras divides by sqrt(v + epsilon) "
    "and applies the learning rate before the momentum "
    "buffer, PyTorch divides by sqrt(v) + epsilon and applies it after",
}
# Optimizers that keep per-row state, which Keras on TensorFlow updates only for the rows in the
# batch.
_ROW_STATE_OPTIMIZERS = ("adam", "adamw", "rmsprop")


def parity_notes(project: Project, init: str, optimizer: str, *, parted: bool = False) -> list[str]:
    """Plain-language reasons why the two loss curves may part: those known before the run, and,
    once they have parted (``parted``), the real differences of the stock optimizers in native
    mode."""
    notes = []
    if init != "matched":
        notes.append(
            "native init: each framework drew its own initial weights, "
            "so the losses are not expected to agree"
        )
    elif optimizer != "matched":
        notes.append(
            "native optimizers: each framework ran its stock update formula, "
            "so the losses part slowly"
        )
    if any(
        layer.type == "Dropout" and layer.resolved().get("rate", 0) > 0 for layer in project.layers
    ):
        notes.append(
            "Dropout draws different random masks in each framework, "
            "so the losses are expected to part"
        )
    if optimizer != "matched" and parted:
        name = str(project.training.get("optimizer", {}).get("name", "adam"))
        if name in NATIVE_OPTIMIZER_DIFFERENCES:
            notes.append(NATIVE_OPTIMIZER_DIFFERENCES[name])
        if name in _ROW_STATE_OPTIMIZERS and any(
            layer.type == "Embedding" for layer in project.layers
        ):
            notes.append(
                "Embedding: Keras on TensorFlow gets a sparse gradient "
                f"and updates {name}'s moments only for "
                "the ids in the batch; "
                "PyTorch's dense gradient decays every row's moments at every step"
            )
    return notes


def loss_parity(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Per-step |loss difference| of two loss curves: initial, largest, and the first step past
    a tolerance of 1e-3 x max(1, mean |loss|) (a NaN on one side counts as parted)."""
    n = min(len(a), len(b))
    if n == 0:
        return {
            "initial_loss_abs_diff": None,
            "max_loss_abs_diff": None,
            "first_divergent_step": None,
            "steps_compared": 0,
            "tolerance": None,
        }
    a, b = np.asarray(a[:n], dtype=np.float64), np.asarray(b[:n], dtype=np.float64)
    diff = np.abs(a - b)
    finite = np.isfinite(diff)
    tolerance = 1e-3 * max(1.0, float(np.nanmean(np.abs(a)))) if np.isfinite(a).any() else 1e-3
    over = np.flatnonzero(~finite | (diff > tolerance))
    return {
        "initial_loss_abs_diff": _num(diff[0]),
        "max_loss_abs_diff": _num(diff[finite].max()) if finite.any() else None,
        "first_divergent_step": int(over[0]) + 1 if len(over) else None,
        "steps_compared": int(n),
        "tolerance": tolerance,
    }


def build_summary(session: Session) -> dict[str, Any]:
    groups = waves(tuple(session.runs), session.schedule)  # as the session ran them
    return {
        "format": FORMAT,
        "project": session.project.name,
        "project_path": str(session.project.path) if session.project.path else None,
        "schedule": session.schedule,
        "schedule_waves": [list(w) for w in groups],
        "schedule_text": schedule_text(session.schedule, groups, len(available_cores())),
        "init": session.init,
        "optimizer": session.optimizer,
        "device_requested": session.device,
        "frameworks": _with_break_even(
            {name: framework_summary(run) for name, run in session.runs.items()}
        ),
        "parity": parity(session),
        "fastest": getattr(session, "fastest", None) or {},  # RUNTIME:fastest probes
        "notes": timing_notes(
            session.optimizer, tuple(session.runs), session.project.training.get("optimizer")
        ),
    }


def _with_break_even(figures: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each column's figures with ``break_even_steps``/``break_even_text`` against its runtime's
    default mode in the same run (None where that does not apply)."""
    even = break_even(figures)
    for column, fig in figures.items():
        if "error" not in fig:
            fig["break_even_steps"] = even.get(column, {}).get("steps")
            fig["break_even_text"] = even.get(column, {}).get("text")
    return figures


# Matched mode's Keras-formula optimizer on PyTorch against torch.optim's stock one: median step
# time ratio, digits_mlp, one CPU thread (bench/matched_optimizer_cost.py, two runs, December 2026).
MATCHED_OPTIMIZER_COST = {
    "sgd": 0.99,
    "sgd+momentum": 0.96,
    "adam": 0.85,
    "adamw": 0.93,
    "rmsprop": 0.93,
}
_STOCK_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}


def timing_notes(
    optimizer: str, frameworks: tuple[str, ...], spec: dict | None = None
) -> list[str]:
    """What the user must know to read the timings right; ``spec`` is the project's optimizer
    section."""
    if optimizer != "matched" or "torch" not in frameworks:
        return []
    spec = spec or {}
    name = str(spec.get("name", "adam"))
    stock = _STOCK_NAMES.get(name, name)
    key = "sgd+momentum" if name == "sgd" and spec.get("momentum") else name
    ratio = MATCHED_OPTIMIZER_COST.get(key)
    label = f"{stock} with momentum" if key == "sgd+momentum" else stock
    if ratio is None:
        cost = "its cost against the stock one was not measured"
    elif abs(ratio - 1) < 0.02:
        cost = (
            "on a CPU (digits MLP, one thread) "
            f"it measured as fast as torch.optim.{stock}, within 2%"
        )
    else:
        pct = round(abs(1 - ratio) * 100)
        cost = (
            f"on a CPU (digits MLP, one thread) it measured about {pct}% "
            f"{'faster' if ratio < 1 else 'slower'} "
            f"than torch.optim.{stock}"
        )
    return [
        f"PyTorch ran TwinTrain's Keras-formula {label} (matched mode), "
        f"not torch.optim.{stock}; {cost}. "
        "To time each framework's stock optimizer, train with --optimizer native "
        "(in the app, choose Native optimizers above the plots)."
    ]


def _num(value: SupportsFloat | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def startup_text(info: dict[str, Any]) -> str | None:
    """How long the worker took from its job to its first step, and whether a pre-started
    worker had already imported the framework (then the import is not in the figure)."""
    setup = info.get("setup_s")
    if setup is None:
        return None
    if info.get("prestarted"):
        return f"{setup:.2f} s (pre-started)"
    return f"{setup:.2f} s (import {info.get('import_s', 0):.2f})"
