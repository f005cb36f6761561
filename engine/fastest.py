"""``RUNTIME:fastest``: a short probe of every mode of a runtime picks the one to train with.

The probe is a run of its own: each mode the device offers trains the user's model for a
bounded number of steps (``PROBE_STEPS``) from the same matched weights, one at a time with every
core (the ``alternate`` schedule), and the mode with the fastest steady median step wins.
Compile time is paid inside the probe and reported with it (``probe_s``, each mode's
``compile_s``), never hidden: a mode that wins the probe still compiles again in the real run,
its own worker being a new process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from engine.runtimes import FASTEST, MODE_SEP, column_id, runtime
from engine.spec.project import Project

PROBE_STEPS = 40  # steps per mode: past the first compile and a few warm-up steps


class ProbeCancelled(RuntimeError):
    """The user stopped a probe before it chose."""


def candidates(runtime_id: str, device: str) -> tuple[str, ...]:
    """The columns a probe tries: every mode of the runtime that ``device`` offers ('auto' is a
    GPU where one is present)."""
    from engine.session import gpu_present

    cuda = device == "cuda" or (device == "auto" and gpu_present())
    rt = runtime(runtime_id)
    return tuple(column_id(rt.id, m.id) for m in rt.modes if cuda or not m.cuda_only)


def is_fastest(column: str) -> bool:
    return column.endswith(MODE_SEP + FASTEST)


def probe(
    project: Project,
    runtime_id: str,
    *,
    device: str = "cpu",
    steps: int = PROBE_STEPS,
    init: str = "matched",
    optimizer: str | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Train each candidate mode for ``steps`` steps; the report: every mode tried with its
    figures, the chosen one and why, and the probe's wall time. ``cancelled()`` turning true
    stops the probe's workers and raises ProbeCancelled."""
    from engine.session import Session
    from engine.summary import framework_summary

    columns = candidates(runtime_id, device)
    started = time.perf_counter()
    with Session(
        project,
        frameworks=columns,
        device=device,
        schedule="alternate",
        init=init,
        optimizer=optimizer,
    ) as session:
        enough = threading.Event()

        def watch(_column: str, _event: object) -> None:
            counts = [len(r.steps["step"]) for r in session.runs.values() if not r.finished]
            if all(n >= steps for n in counts):
                enough.set()

        session.subscribe(watch)
        session.start()
        while not session.finished and not enough.wait(0.1):
            if cancelled is not None and cancelled():
                session.stop()
                raise ProbeCancelled(f"the probe of {runtime(runtime_id).label}'s modes stopped")
        session.stop()
        session.wait(30)
        tried = {c: framework_summary(run) for c, run in session.runs.items()}
    return report(runtime_id, tried, time.perf_counter() - started, steps)


def report(
    runtime_id: str, tried: dict[str, dict[str, Any]], probe_s: float, steps: int
) -> dict[str, Any]:
    """The probe's choice from each mode's figures (framework_summary's keys)."""
    rt = runtime(runtime_id)
    rows = {
        c.partition(MODE_SEP)[2] or rt.default_mode: {
            "steps": fig.get("steps"),
            "step_time_median_s": fig.get("step_time_median_s"),
            "first_step_s": fig.get("first_step_s"),
            "compile_s": fig.get("compile_s"),
            "error": fig.get("error"),
        }
        for c, fig in tried.items()
    }
    timed: dict[str, float] = {
        m: float(r["step_time_median_s"])
        for m, r in rows.items()
        if not r["error"] and r["step_time_median_s"]
    }
    if not timed:
        raise RuntimeError(
            f"{rt.label}: no mode finished its probe ("
            + "; ".join(f"{m}: {r['error'] or 'no steady steps'}" for m, r in rows.items())
            + ")"
        )
    chosen = min(timed, key=lambda m: timed[m])
    best = timed[chosen]
    others = ", ".join(f"{m} {t * 1e3:.3f} ms" for m, t in timed.items() if m != chosen)
    compiled = sum(r["compile_s"] or 0.0 for r in rows.values())
    why = (
        f"{chosen}: fastest steady median step, {best * 1e3:.3f} ms"
        + (f" (against {others})" if others else "")
        + f"; probe {probe_s:.1f} s ({steps} steps a mode), {compiled:.1f} s of it compiling"
    )
    return {
        "runtime": rt.id,
        "tried": rows,
        "chosen": chosen,
        "column": column_id(rt.id, chosen),
        "why": why,
        "probe_s": probe_s,
        "probe_compile_s": compiled,
        "steps_per_mode": steps,
    }


def resolve(
    project: Project,
    columns: tuple[str, ...],
    *,
    device: str = "cpu",
    init: str = "matched",
    optimizer: str | None = None,
    on_probe: Callable[[str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[tuple[str, ...], dict[str, dict[str, Any]]]:
    """``columns`` with each ``RUNTIME:fastest`` replaced by the mode its probe chose (repeats
    dropped), and the probes' reports by runtime. ``on_probe(runtime)`` is called as each starts."""
    probes: dict[str, dict[str, Any]] = {}
    out: list[str] = []
    for column in columns:
        if is_fastest(column):
            rt = runtime(column).id
            if on_probe is not None:
                on_probe(rt)
            probes[rt] = probe(
                project, rt, device=device, init=init, optimizer=optimizer, cancelled=cancelled
            )
            column = probes[rt]["column"]
        if column not in out:
            out.append(column)
    return tuple(out), probes
