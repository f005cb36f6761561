"""Compile cost, measured apart from steady state: per column, the time to its first finished
step, the compiles and recompiles its step went through, and the steps it needs to pay its
compile time back against its runtime's default mode in the same run.

A worker reports a ``compiled`` event each time its backend's count of traced or compiled graphs
rises (engine.backends.base.Backend.compiles), with that step's time, compile included. Those
events are all this module reads, beside the step times, so every figure here is measured.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.runtimes import mode_of, split_column


def steady_start(total: int, warmup: int, compiles: list[dict[str, Any]]) -> int:
    """Index of the first steady step: after the warm-up and after the last (re)compile. When a
    compile at the very end (a smaller last batch in a one-epoch run) would leave fewer than a
    tenth of the steps, only the compile steps themselves are left out (``steady_mask``)."""
    last = max((int(c["step"]) for c in compiles), default=0)  # steps count from 1
    start = max(warmup, last)
    return start if total - start >= max(1, total // 10) else warmup


def steady_mask(total: int, start: int, compiles: list[dict[str, Any]]) -> np.ndarray:
    """The steps that count as steady: from ``start``, without any compile step."""
    mask = np.zeros(total, dtype=bool)
    mask[start:] = True
    for c in compiles:
        if 0 < int(c["step"]) <= total:
            mask[int(c["step"]) - 1] = False
    return mask


def compile_figures(
    column: str, times: np.ndarray, compiles: list[dict[str, Any]], steady_median: float | None
) -> dict[str, Any]:
    """The summary's compile keys for one column (see docs/formats.md, summary.json)."""
    mode = mode_of(column)
    first = float(times[0]) if len(times) else None
    graphs = int(compiles[-1]["graphs"]) if compiles else 0
    at_first = [c for c in compiles if int(c["step"]) == 1]
    later = [c for c in compiles if int(c["step"]) > 1]
    base = steady_median or 0.0
    compile_s = (
        sum(max(0.0, float(c["step_time_s"]) - base) for c in compiles) if compiles else None
    )
    recompile_steps = [int(c["step"]) for c in later]
    return {
        "mode": split_column(column)[1],
        "compiling_mode": mode.compiles,
        "first_step_s": first,
        "compile_s": compile_s,
        "graphs": graphs,
        "first_graphs": int(at_first[0]["graphs"]) if at_first else 0,
        "recompiles": len(later),
        "recompile_steps": recompile_steps,
        "compile_text": compile_text(mode.compiles, compile_s, graphs, recompile_steps),
    }


def compile_text(
    compiling: bool, compile_s: float | None, graphs: int, recompile_steps: list[int]
) -> str:
    """'38.70 s, 1 graph, 0 recompiles', or 'none (eager)'; ``compile_s`` None: no compile seen."""
    if not compiling:
        return "none (eager)"
    if compile_s is None:
        return "no compile seen"
    n = len(recompile_steps)
    at = f" (step {', '.join(map(str, recompile_steps[:3]))})" if n else ""
    return (
        f"{compile_s:.2f} s, {graphs} graph{'s' if graphs != 1 else ''}, "
        f"{n} recompile{'s' if n != 1 else ''}{at}"
    )


def break_even(figures: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each column in a non-default mode whose runtime's default mode is in the same run:
    after how many steps its compile time is paid back. With c the compile time and t the steady
    median step of each side, the two have spent the same time after
    N = (c_mode - c_default) / (t_default - t_mode) steps; a mode whose steady step is not
    faster never pays back (N is None)."""
    out: dict[str, dict[str, Any]] = {}
    for column, fig in figures.items():
        rt, mode = split_column(column)
        if column == rt or rt not in figures or "error" in fig or "error" in figures[rt]:
            continue
        base = figures[rt]
        t_mode, t_default = fig.get("step_time_median_s"), base.get("step_time_median_s")
        if t_mode is None or t_default is None:
            continue
        extra = (fig.get("compile_s") or 0.0) - (base.get("compile_s") or 0.0)
        gain = t_default - t_mode
        if gain <= 0:
            steps, text = None, f"never (not faster than {base['mode']})"
        elif extra <= 0:
            steps, text = 0, f"from step 1 (vs {base['mode']})"
        else:
            steps = math.ceil(extra / gain - 1e-9)  # 6 s / 0.2 ms is 30,000, not 30,001
            text = f"after {steps:,} steps (vs {base['mode']})"
        out[column] = {
            "against": rt,
            "steps": steps,
            "text": text,
            "extra_compile_s": extra,
            "saved_per_step_s": gain,
        }
    return out
