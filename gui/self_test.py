"""`twintrain --self-test`: the installed app checks itself end to end, frozen or not.

It opens the main window (offscreen unless a platform is set), trains the xor_mlp preset for one
epoch in the default frameworks (engine.runtimes.DEFAULT_RUNTIMES) through the window's own
Train action (real worker processes: the frozen app re-launches its own executable), exports
ONNX from each of them, and checks the results. One line per check ("PASS name: detail" or
"FAIL name: detail"); the exit code is 0 only if every check passed. Nothing is written to the
user's data folder: unless TWINTRAIN_DATA_DIR is set, a temporary one is used and removed
afterwards.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.runtimes import DEFAULT_RUNTIMES, RUNTIMES

PRESET = "xor_mlp"
FRAMEWORKS = DEFAULT_RUNTIMES  # what every bundle holds (JAX may be left out of it)
# No module of any registered runtime's packages may be in the GUI process (a distribution's
# module is named after it: tensorflow-cpu|tensorflow gives tensorflow).
FRAMEWORK_MODULES = tuple(
    dict.fromkeys(d.split("|")[-1].replace("-", "_") for r in RUNTIMES.values() for d in r.packages)
)
TRAIN_TIMEOUT_S = 300.0
EXPORT_TIMEOUT_S = 300.0


class Checks:
    """Collects and prints PASS/FAIL lines as they happen."""

    def __init__(self, out=None) -> None:
        self.out = out or sys.stdout
        self.results: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.results.append((name, bool(ok), detail))
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", file=self.out, flush=True)
        return bool(ok)

    def run(self, name: str, check: Callable[[], tuple[bool, str]]) -> bool:
        """A check that may raise: an exception is a FAIL with its message."""
        try:
            ok, detail = check()
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return self.add(name, ok, detail)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(ok for _, ok, _ in self.results)


def main(argv: list[str] | None = None) -> int:
    """Entry point for `twintrain --self-test`; returns the exit code."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    own_data = "TWINTRAIN_DATA_DIR" not in os.environ
    data = Path(tempfile.mkdtemp(prefix="twintrain-selftest-")) if own_data else None
    if data is not None:
        os.environ["TWINTRAIN_DATA_DIR"] = str(data)
    try:
        return run_self_test()
    finally:
        if data is not None:
            shutil.rmtree(data, ignore_errors=True)


def run_self_test() -> int:
    t0 = time.perf_counter()
    checks = Checks()
    from engine.child_process import is_frozen, relaunch_command

    frozen = is_frozen()
    print(
        "twintrain self-test: "
        f"{'frozen app ' + sys.executable if frozen else 'python ' + sys.executable}, "
        f"platform {os.environ.get('QT_QPA_PLATFORM')}, "
        f"data {os.environ.get('TWINTRAIN_DATA_DIR')}",
        flush=True,
    )

    from engine.worker_pool import worker_command
    from gui.app import create_app, create_window

    app = create_app()
    win = create_window([PRESET])
    messages: list[tuple[str, str]] = []
    # Never block on a dialog: the window's two dialog methods, replaced on this instance.
    win.tell = lambda title, text, kind="error": messages.append(  # type: ignore[method-assign]
        (title, text)
    )
    win.ask = lambda title, text, buttons, default: _no(default)  # type: ignore[method-assign]
    win.show()
    app.processEvents()
    shown_s = time.perf_counter() - t0
    checks.add(
        "window",
        win.isVisible() and win.doc.project.name == "xor-mlp" and not messages,
        f"main window shown with preset {PRESET} ({len(win.doc.layers)} layers) in {shown_s:.2f} s"
        + (f"; messages: {messages}" if messages else ""),
    )

    # Workers are this very executable (the frozen app re-launched, else this Python), started
    # by the one relaunch builder; the training below proves the command really starts one.
    command = worker_command(FRAMEWORKS[0])
    expected = [*relaunch_command("engine.worker", ["--twintrain-worker"]), FRAMEWORKS[0]]
    checks.add(
        "worker-command",
        command == expected and command[0] == sys.executable,
        " ".join(command),
    )

    summary = _train(app, win, checks, messages)
    if summary is not None:
        _check_run(win, summary, checks)
        _train_warm(app, win, checks)
    _export(app, win, checks)

    loaded = sorted(m for m in FRAMEWORK_MODULES if m in sys.modules)
    checks.add(
        "gui-process",
        not loaded,
        f"no framework in the GUI process ({', '.join(FRAMEWORK_MODULES)} not in sys.modules)"
        if not loaded
        else f"the GUI process imported {', '.join(loaded)}",
    )

    win.doc.undo_stack.setClean()  # closing must not ask to save the one-epoch edit
    pool = win.training.controller.pool
    warm_pids = pool.idle_pids() if pool is not None else []
    win.close()
    app.processEvents()
    controller = win.training.controller
    left = [
        fw
        for fw, run in (controller.session.runs.items() if controller.session else [])
        if run.process is not None and run.process.poll() is None
    ]
    left += [f"warm worker {pid}" for pid in warm_pids if _alive(pid)]
    checks.add(
        "cleanup",
        not win.isVisible() and not left,
        "window closed, no worker process left" if not left else f"workers still running: {left}",
    )

    n_ok = sum(ok for _, ok, _ in checks.results)
    verdict = "passed" if checks.passed else "FAILED"
    print(
        f"self-test {verdict}: {n_ok}/{len(checks.results)} checks "
        f"in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    return 0 if checks.passed else 1


def _no(default):
    from PySide6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.Cancel if default is None else default


def _wait(app, done: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``done()`` or the timeout (no sleeping without events)."""
    from PySide6.QtCore import QEventLoop

    deadline = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > deadline:
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if not done():
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    return True


def _train(app, win, checks: Checks, messages: list) -> dict[str, Any] | None:
    """One epoch of xor_mlp in FRAMEWORKS, started with the window's Train action."""
    training = win.training
    for fw, box in training.dashboard.framework_boxes.items():
        box.setChecked(fw in FRAMEWORKS)
    win.doc.set_training(("epochs",), 1)
    controller = training.controller
    started = time.perf_counter()
    training.act_train.trigger()
    if not controller.running:
        checks.add("train", False, f"Train did not start a run; messages: {messages}")
        return None
    finished = _wait(app, lambda: controller.summary is not None, TRAIN_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    if not finished:
        controller.shutdown()
        checks.add(
            "train",
            False,
            f"the run did not finish in {TRAIN_TIMEOUT_S:.0f} s; status {controller.status}",
        )
        return None
    summary = controller.summary
    frameworks = summary.get("frameworks", {})
    statuses = {fw: frameworks.get(fw, {}).get("status") for fw in FRAMEWORKS}
    errors = {fw: controller.errors[fw][0] for fw in controller.errors}
    ok = all(s == "finished" for s in statuses.values()) and not errors
    detail = ", ".join(
        f"{fw} {statuses[fw]} ({frameworks.get(fw, {}).get('steps')} steps, "
        f"first point {controller.first_point_s.get(fw, math.nan):.1f} s)"
        for fw in FRAMEWORKS
    )
    checks.add(
        "train",
        ok,
        f"{detail}; run took {elapsed:.1f} s" + (f"; errors: {errors}" if errors else ""),
    )
    return summary


def _train_warm(app, win, checks: Checks) -> None:
    """Run > Keep Workers Warm: pre-started workers (the frozen app re-launched with --warm) are
    ready, and a second run takes them instead of starting fresh ones."""
    training = win.training
    training.act_warm.setChecked(True)
    training.prewarm()
    all_ready = {fw: "ready" for fw in FRAMEWORKS}
    started = time.perf_counter()
    if not _wait(app, lambda: training.warm_state() == all_ready, TRAIN_TIMEOUT_S):
        checks.add(
            "warm-workers",
            False,
            f"not ready after {TRAIN_TIMEOUT_S:.0f} s: {training.warm_state()}",
        )
        return
    ready_s = time.perf_counter() - started
    controller = training.controller
    training.act_train.trigger()
    if not controller.running or not _wait(
        app, lambda: controller.summary is not None, TRAIN_TIMEOUT_S
    ):
        controller.shutdown()
        checks.add(
            "warm-workers",
            False,
            f"the run with warm workers did not finish; status {controller.status}",
        )
        return
    frameworks = controller.summary.get("frameworks", {})
    ok = all(
        frameworks.get(fw, {}).get("status") == "finished"
        and controller.infos.get(fw, {}).get("prestarted")
        for fw in FRAMEWORKS
    )
    detail = ", ".join(
        f"{fw} {frameworks.get(fw, {}).get('status')} on a "
        f"{'pre-started' if controller.infos.get(fw, {}).get('prestarted') else 'fresh'} worker "
        f"(first point {controller.first_point_s.get(fw, math.nan):.2f} s)"
        for fw in FRAMEWORKS
    )
    checks.add("warm-workers", ok, f"all ready {ready_s:.1f} s after Keep Workers Warm; {detail}")


def _alive(pid: int) -> bool:
    try:
        import psutil

        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


def _check_run(win, summary: dict[str, Any], checks: Checks) -> None:
    controller = win.training.controller
    frameworks = summary.get("frameworks", {})

    def losses() -> tuple[bool, str]:
        parts, ok = [], True
        for fw in FRAMEWORKS:
            series = controller.series.get(fw)
            values = [] if series is None else [float(v) for v in series["loss"]]
            final = frameworks.get(fw, {}).get("final_train_loss")
            steps = frameworks.get(fw, {}).get("steps") or 0
            finite = (
                final is not None and math.isfinite(final) and all(math.isfinite(v) for v in values)
            )
            ok = ok and finite and steps > 0 and len(values) == steps
            parts.append(
                f"{fw} {len(values)} plotted / {steps} steps, final train loss "
                f"{final if final is None else f'{final:.5f}'}"
            )
        return ok, "; ".join(parts)

    def parity() -> tuple[bool, str]:
        p = summary.get("parity") or {}
        diff, tol = p.get("max_loss_abs_diff"), p.get("tolerance")
        ok = (
            diff is not None
            and tol is not None
            and diff <= tol
            and p.get("first_divergent_step") is None
        )
        return (
            ok,
            f"max |loss {' - loss '.join(FRAMEWORKS)}| "
            f"{diff if diff is None else f'{diff:.2e}'} over "
            f"{p.get('steps_compared')} steps (tolerance {tol if tol is None else f'{tol:.1e}'})",
        )

    def run_folder() -> tuple[bool, str]:
        folder = controller.run_dir
        wanted = (
            "metrics.csv",
            "epochs.csv",
            "summary.json",
            "project.twintrain.json",
            "report.html",
        )
        missing = [n for n in wanted if folder is None or not (folder / n).is_file()]
        charts = sorted(p.name for p in (folder / "charts").glob("*")) if folder else []
        if "report_error" in summary:
            missing.append(f"report ({summary['report_error']})")
        ok = not missing and bool(charts)
        return ok, (
            f"{folder} has {', '.join(wanted)} and {len(charts)} charts"
            if ok
            else f"{folder}: missing {', '.join(missing) or 'charts'}"
        )

    checks.run("losses", losses)
    checks.run("parity", parity)
    checks.run("run-folder", run_folder)


def _export(app, win, checks: Checks) -> None:
    """ONNX from each of FRAMEWORKS (each in its worker), verified there and cross-checked here."""
    from engine.exporting import export_untrained
    from gui.tasks import run_in_background

    project = win.doc.file_project()
    out_dir = Path(os.environ["TWINTRAIN_DATA_DIR"]) / "self-test-export"
    result: dict[str, Any] = {}

    def failed(exc: BaseException, _traceback: str) -> None:
        result["error"] = f"{type(exc).__name__}: {exc}"

    started = time.perf_counter()
    run_in_background(  # the window stays responsive while the workers export
        lambda _task: export_untrained(project, out_dir, ["onnx"], force=True),
        on_result=lambda value: result.setdefault("value", value),
        on_error=failed,
        name="self-test-export",
    )
    if not _wait(app, lambda: bool(result), EXPORT_TIMEOUT_S):
        checks.add("export", False, f"the ONNX export did not finish in {EXPORT_TIMEOUT_S:.0f} s")
        return
    if "error" in result:
        checks.add("export", False, result["error"])
        return
    manifest = result["value"]
    checks.add(
        "export",
        (out_dir / "exports.json").is_file(),
        f"exports.json written in {time.perf_counter() - started:.1f} s",
    )
    entries = {e["framework"]: e for e in manifest["entries"] if e.get("format") in ("onnx", "all")}
    for fw in FRAMEWORKS:
        e = entries.get(fw)
        if e is None:
            checks.add(f"onnx-{fw}", False, "no ONNX entry")
            continue
        diff = e.get("max_abs_diff")
        detail = (
            (
                f"{e.get('file')} {e.get('bytes')} bytes, "
                f"max diff {diff if diff is None else f'{diff:.1e}'} "
                f"({e.get('check')})"
            )
            if e.get("ok")
            else f"{e.get('file')}: {e.get('reason')}"
        )
        checks.add(f"onnx-{fw}", bool(e.get("ok")), detail)
    cross = manifest.get("cross_check") or {}
    diff = cross.get("max_abs_diff")
    checks.add(
        "onnx-cross-check",
        cross.get("ok") is True,
        f"{' vs '.join(cross.get('files') or [f'{fw}.onnx' for fw in FRAMEWORKS])} in onnxruntime: "
        f"max diff {diff if diff is None else f'{diff:.1e}'} "
        f"(tolerance {cross.get('tolerance')})"
        + (f"; {cross.get('reason')}" if cross.get("reason") else ""),
    )
