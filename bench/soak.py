"""Soak: start/stop cycles of a training Session (engine) and of the GUI's run controller, with
random stop points; prints leaked processes, file descriptors, threads and the GUI process' RSS
growth. Prints figures; never pass/fail (tests/reliability/test_soak.py runs a short soak and
asserts on them).

Every cycle trains the tiny xor_mlp preset (1000 epochs, so no run ends by itself) in PyTorch,
TensorFlow or both, in turn, and stops it at a random point drawn from three phases:
  early     0-1 s after start (worker spawned, importing its framework)
  mid       1-3 s after start (import and build; PyTorch is usually ready by 3.5 s)
  training  after k random steps (1-300) have arrived from every framework
The GUI cycles go through the main window: Train (F5), wait, Stop, wait until the run folder is
complete (charts and report drawn by their separate process), next.

Goals (issue 8): no leaked processes, file descriptors or threads after the cycles; the GUI
process' RSS grows by under 50 MB over the GUI cycles.

    .venv/bin/python bench/soak.py [--cycles 200] [--gui-cycles 50] [--seed 0] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TWINTRAIN_DATA_DIR", tempfile.mkdtemp(prefix="twintrain-soak-"))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from engine.runtimes import DEFAULT_RUNTIMES  # noqa: E402

PRESET = "xor_mlp"
_FIRST, _SECOND = DEFAULT_RUNTIMES[:2]  # PyTorch and TensorFlow
FRAMEWORK_TURNS = ((_FIRST,), (_SECOND,), (_FIRST,), (_FIRST, _SECOND))
PHASES = (("early", 0.35), ("mid", 0.45), ("training", 0.20))
RUN_TIMEOUT_S = 90.0
ME = psutil.Process()


def live_children() -> list[psutil.Process]:
    out = []
    for p in ME.children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def resources() -> dict[str, int]:
    return {
        "processes": len(live_children()),
        "fds": ME.num_fds(),
        "threads": threading.active_count(),
        "rss": ME.memory_info().rss,
    }


def settle(baseline: dict[str, int], timeout: float = 8.0) -> dict[str, int]:
    """Resources once short-lived helpers are gone (a session's reaper thread lives up to its
    stop grace, 3 s, after a stop), or whatever is left after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        gc.collect()
        now = resources()
        done = all(now[k] <= baseline[k] for k in ("processes", "fds", "threads"))
        if done or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def draw_stop(rng: random.Random, training_share: float) -> tuple[str, float]:
    rest = sum(w for p, w in PHASES if p != "training")
    weights = [
        training_share if p == "training" else w / rest * (1 - training_share) for p, w in PHASES
    ]
    phase = rng.choices([p for p, _ in PHASES], weights=weights)[0]
    if phase == "early":
        return phase, rng.uniform(0.0, 1.0)
    if phase == "mid":
        return phase, rng.uniform(1.0, 3.0)
    return phase, float(rng.randint(1, 300))


def project():
    from engine.presets import load_project_arg

    p = load_project_arg(PRESET)
    p.training["epochs"] = 1000
    return p


# ---- engine sessions ---------------------------------------------------------------------------


def session_cycle(frameworks: tuple[str, ...], phase: str, point: float) -> dict:
    from engine.session import Session

    session = Session(project(), frameworks=frameworks)
    t0 = time.perf_counter()
    session.start()
    if phase == "training":
        deadline = time.perf_counter() + RUN_TIMEOUT_S
        while time.perf_counter() < deadline and not session.finished:
            if all(len(r.steps["step"]) >= point for r in session.runs.values()):
                break
            time.sleep(0.005)
    else:
        session.wait(point)
    stop_at = time.perf_counter()
    session.stop()
    stopped = session.wait(30)
    stop_s = time.perf_counter() - stop_at
    pids = [r.process.pid for r in session.runs.values() if r.process is not None]
    session.close()
    left = [p.pid for p in live_children() if p.pid in pids]
    result = {
        "frameworks": frameworks,
        "phase": phase,
        "point": point,
        "stopped_in_s": stop_s,
        "ended": stopped,
        "status": {f: r.status for f, r in session.runs.items()},
        "errors": {f: r.error for f, r in session.runs.items() if r.error},
        "steps": {f: len(r.steps["step"]) for f, r in session.runs.items()},
        "leftover_pids": left,
        "elapsed_s": time.perf_counter() - t0,
    }
    return result


def soak_sessions(cycles: int, rng: random.Random, log, training_share: float) -> dict:
    session_cycle((_FIRST,), "early", 0.2)  # warm-up: modules the engine imports lazily
    baseline = settle(resources())
    results = []
    t0 = time.perf_counter()
    for i in range(cycles):
        frameworks = FRAMEWORK_TURNS[i % len(FRAMEWORK_TURNS)]
        phase, point = draw_stop(rng, training_share)
        r = session_cycle(frameworks, phase, point)
        results.append(r)
        if r["errors"] or not r["ended"] or r["leftover_pids"]:
            log(f"  session cycle {i}: {r}")
    elapsed = time.perf_counter() - t0
    after = settle(baseline)
    return summarize("session", results, baseline, after, elapsed)


# ---- GUI ---------------------------------------------------------------------------------------


def soak_gui(cycles: int, rng: random.Random, log, training_share: float) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from engine.presets import preset_path
    from gui.main_window import MainWindow

    _app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive for the run)

    def wait_until(predicate, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(
            lambda: loop.quit() if predicate() or time.perf_counter() > deadline else None
        )
        timer.start()
        if not (predicate() or time.perf_counter() > deadline):
            loop.exec()
        timer.stop()
        return bool(predicate())

    win = MainWindow()
    messages: list[tuple[str, str]] = []
    win.tell = lambda title, text, kind="error": messages.append((title, text))
    win.ask = lambda *a: None
    win.resize(1280, 800)
    win.show()
    assert win.open_path(preset_path(PRESET), ask=False)
    win.doc.project.training["epochs"] = 1000
    training, controller = win.training, win.training.controller
    ticks = [0]
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    heartbeat.start()

    def cycle(frameworks: tuple[str, ...], phase: str, point: float) -> dict:
        for fw, box in training.dashboard.framework_boxes.items():
            box.setChecked(fw in frameworks)
        t0 = time.perf_counter()
        ticks_before = ticks[0]
        if not training.train():
            return {
                "frameworks": frameworks,
                "phase": phase,
                "ended": False,
                "errors": {"train": messages[-1:]},
                "status": {},
                "steps": {},
                "leftover_pids": [],
                "stopped_in_s": 0.0,
                "point": point,
            }
        session = controller.session
        if phase == "training":
            wait_until(
                lambda: (
                    all(len(s) >= point for s in controller.series.values()) or session.finished
                ),
                RUN_TIMEOUT_S,
            )
        else:
            wait_until(lambda: False, point)
        stop_at = time.perf_counter()
        training.stop()
        ended = wait_until(lambda: controller.summary is not None, 60)
        stop_s = time.perf_counter() - stop_at
        pids = [r.process.pid for r in session.runs.values() if r.process is not None]
        left = [p.pid for p in live_children()]
        elapsed = time.perf_counter() - t0
        return {
            "frameworks": frameworks,
            "phase": phase,
            "point": point,
            "stopped_in_s": stop_s,
            "ended": ended,
            "status": dict(controller.status),
            "errors": {f: e[0] for f, e in controller.errors.items()},
            "steps": {f: len(s) for f, s in controller.series.items()},
            "leftover_pids": left,
            "worker_pids": pids,
            "elapsed_s": elapsed,
            "ticks_per_s": (ticks[0] - ticks_before) / elapsed if elapsed > 0 else 0.0,
        }

    cycle((_FIRST,), "early", 0.2)  # warm-up: the dashboard's plots, the runs panel, lazy imports
    baseline = settle(resources())
    results = []
    rss = [baseline["rss"]]
    t0 = time.perf_counter()
    for i in range(cycles):
        frameworks = FRAMEWORK_TURNS[i % len(FRAMEWORK_TURNS)]
        phase, point = draw_stop(rng, training_share)
        r = cycle(frameworks, phase, point)
        results.append(r)
        rss.append(ME.memory_info().rss)
        if r["errors"] or not r["ended"] or r["leftover_pids"]:
            log(f"  GUI cycle {i}: {r}")
    elapsed = time.perf_counter() - t0
    after = settle(baseline)
    heartbeat.stop()
    out = summarize("gui", results, baseline, after, elapsed)
    out["rss_max_growth_mb"] = (max(rss) - baseline["rss"]) / 2**20
    out["min_ticks_per_s"] = min((r.get("ticks_per_s", 0.0) for r in results), default=0.0)
    training.shutdown()
    win.doc.undo_stack.setClean()
    win.close()
    return out


# ---- figures -----------------------------------------------------------------------------------


def summarize(kind: str, results: list[dict], baseline: dict, after: dict, elapsed: float) -> dict:
    reached = sum(1 for r in results if any(r["steps"].values()))
    stops = [r["stopped_in_s"] for r in results]
    bad = [
        r
        for r in results
        if r["errors"]
        or not r["ended"]
        or any(s not in ("stopped", "finished") for s in r["status"].values())
    ]
    return {
        "kind": kind,
        "cycles": len(results),
        "elapsed_s": elapsed,
        "by_phase": {p: sum(1 for r in results if r["phase"] == p) for p, _ in PHASES},
        "by_frameworks": {
            "+".join(f): sum(1 for r in results if tuple(r["frameworks"]) == f)
            for f in dict.fromkeys(FRAMEWORK_TURNS)
        },
        "stopped_while_training": reached,
        "steps_total": sum(sum(r["steps"].values()) for r in results),
        "stop_to_end_median_s": statistics.median(stops) if stops else None,
        "stop_to_end_max_s": max(stops) if stops else None,
        "failed_cycles": len(bad),
        "failures": [
            {k: v for k, v in r.items() if k in ("frameworks", "phase", "status", "errors")}
            for r in bad
        ][:5],
        "leftover_after_cycle": sum(len(r["leftover_pids"]) for r in results),
        "leaked_processes": after["processes"] - baseline["processes"],
        "leaked_fds": after["fds"] - baseline["fds"],
        "leaked_threads": after["threads"] - baseline["threads"],
        "rss_growth_mb": (after["rss"] - baseline["rss"]) / 2**20,
        "baseline": baseline,
        "after": after,
    }


def report(s: dict) -> str:
    name = "Session (engine)" if s["kind"] == "session" else "GUI (main window, RunController)"
    lines = [
        f"{name}: {s['cycles']} start/stop cycles in {s['elapsed_s']:.0f} s; "
        f"stop phases {s['by_phase']}; "
        f"frameworks {s['by_frameworks']}",
        f"  stopped while training: {s['stopped_while_training']} cycles "
        f"({s['steps_total']} steps in all); "
        f"stop to end: median {s['stop_to_end_median_s']:.3f} s, "
        f"max {s['stop_to_end_max_s']:.3f} s",
        f"  failed cycles (an error, or not stopped): {s['failed_cycles']}; "
        "workers left after a cycle: "
        f"{s['leftover_after_cycle']}",
        f"  leaked after the soak: processes {s['leaked_processes']}, "
        f"file descriptors {s['leaked_fds']} "
        f"({s['baseline']['fds']} -> {s['after']['fds']}), threads {s['leaked_threads']} "
        f"({s['baseline']['threads']} -> {s['after']['threads']}); "
        f"RSS {s['rss_growth_mb']:+.1f} MB",
    ]
    if s["kind"] == "gui":
        lines.append(
            f"  GUI process RSS growth: {s['rss_growth_mb']:+.1f} MB at the end, "
            f"{s['rss_max_growth_mb']:+.1f} MB at most (goal < 50 MB); heartbeat timer (10 ms) "
            f"at least {s['min_ticks_per_s']:.0f} ticks/s in every cycle"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200, help="engine Session start/stop cycles")
    parser.add_argument("--gui-cycles", type=int, default=50, help="GUI start/stop cycles")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--training-share",
        type=float,
        default=dict(PHASES)["training"],
        help="share of cycles stopped while training (the rest while starting)",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    def log(text: str) -> None:
        print(text, flush=True)

    print(f"Soak on {os.cpu_count()} cores, preset {PRESET}, seed {args.seed}", flush=True)
    figures = {}
    if args.cycles:
        figures["session"] = soak_sessions(args.cycles, rng, log, args.training_share)
        print(report(figures["session"]), flush=True)
    if args.gui_cycles:
        figures["gui"] = soak_gui(args.gui_cycles, rng, log, args.training_share)
        print(report(figures["gui"]), flush=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
