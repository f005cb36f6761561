"""The GUI's side of a training session: one queued hop from the workers to the main thread.

Session listeners run in reader threads; they only append to a deque. A 30 Hz timer in the
main thread drains it into numpy buffers and emits ``updated`` once per tick, so plots redraw
at most 30 times a second however fast the workers stream. The run folder is written by the
engine's RunRecorder exactly as `twintrain train` writes it; charts and the report are drawn at
the end by a short separate process, so the window never freezes and no thread of the GUI
process runs matplotlib (a thread there made Python's garbage collector free Qt objects
off the main thread, which deadlocked Qt).
"""

from __future__ import annotations

import collections
import os
import subprocess
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.child_process import child_cwd
from engine.run_folder import RunRecorder, finalize_command, prepare_run_dir, run_stem
from engine.session import Session, core_plan
from engine.spec.project import Project
from engine.summary import warmup_steps
from engine.trained_weights import WEIGHTS_DIR
from engine.worker_pool import NICE_ENV, WorkerPool
from gui.paths import data_dir
from gui.run.buffers import Series

TICK_MS = 33
WORKER_NICE = (
    5  # workers started from the app yield the CPU to the window (engine.worker._lower_priority)
)


def runs_dir() -> Path:
    path = data_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


class RunController(QObject):
    updated = Signal()  # new points, at most once per tick
    status_changed = Signal(str, str)  # framework, status
    finished = Signal(object)  # the summary dict, once the run folder is complete
    running_changed = Signal(bool)
    workers_done = Signal()  # every framework has stopped; the run folder is still being closed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        os.environ.setdefault(
            NICE_ENV, str(WORKER_NICE)
        )  # before any worker starts; a user's value wins
        self.session: Session | None = None
        self.recorder: RunRecorder | None = None
        self.series: dict[str, Series] = {}
        self.epochs: dict[str, list[dict[str, Any]]] = {}
        self.infos: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, tuple[str, str]] = {}
        self.status: dict[str, str] = {}
        self.run_dir: Path | None = None
        self.summary: dict[str, Any] | None = None
        self.first_point_s: dict[str, float] = {}
        self._inbox: collections.deque = collections.deque()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._drain)
        self._finishing = False
        self._finalizer: subprocess.Popen | None = None
        self._finalizer_log = None
        self._closer: threading.Thread | None = None  # closes the session and run folder at the end
        self._closed_summary: dict[str, Any] | None = None
        self._started_at: float | None = None
        self.expected_steps = 0
        self.pool: WorkerPool | None = None  # warm workers, when the user keeps them (Run menu)

    # ---- warm workers ------------------------------------------------------------------------

    def set_warm(self, enabled: bool) -> None:
        """Keep pre-started workers (framework imported, waiting for a job) or drop them now."""
        if enabled and self.pool is None:
            self.pool = WorkerPool()
        elif not enabled and self.pool is not None:
            self.pool.close()
            self.pool = None

    def prewarm(self, frameworks: tuple[str, ...], schedule: str) -> int:
        """Start warm workers for the next run's plan, never during a run (an import would take
        CPU from the frameworks being measured). Returns how many were started."""
        if self.pool is None or self.running or not frameworks:
            return 0
        return self.pool.prestart(core_plan(tuple(frameworks), schedule))

    # ---- control -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session is not None and self.summary is None

    def start(
        self,
        project: Project,
        *,
        frameworks=("torch", "tensorflow"),
        device: str = "auto",
        schedule: str | None = None,
        init: str = "matched",
        optimizer: str | None = None,
        expected_steps: int = 0,
        export_models: bool = False,
        rss_cap_bytes: int | None = None,
        hang_timeout_s: float = 120.0,
    ) -> Path:
        if self.running:
            raise RuntimeError("a run is already going; stop it first")
        frozen = project.copy()  # the run keeps the project as it was when Train was pressed
        run_dir = prepare_run_dir(
            runs_dir() / f"{run_stem(project.name, project.path)}-{datetime.now():%Y%m%d-%H%M%S-%f}"
        )
        export = None
        if export_models:
            from engine.export.formats import FORMATS

            export = {"formats": list(FORMATS), "dir": str(run_dir / "models")}
        session = Session(
            frozen,
            frameworks=frameworks,
            device=device,
            schedule=schedule,
            init=init,
            optimizer=optimizer,
            export=export,
            pool=self.pool,
            rss_cap_bytes=rss_cap_bytes,
            hang_timeout_s=hang_timeout_s,
            save_weights=run_dir / WEIGHTS_DIR,
        )  # File > Export Model… exports them
        self.session, self.run_dir, self.summary, self._finishing = session, run_dir, None, False
        self._closed_summary = None
        self.expected_steps = expected_steps  # per framework; the plots size their x axis by it
        w = warmup_steps(expected_steps) if expected_steps else 5
        self.series = {fw: Series(warmup=w) for fw in session.frameworks}
        self.epochs = {fw: [] for fw in session.frameworks}
        self.status = {fw: "starting" for fw in session.frameworks}
        self.infos, self.errors, self.first_point_s = {}, {}, {}
        self._inbox.clear()
        self._started_at: float | None = None
        self.recorder = RunRecorder(session, run_dir)
        session.subscribe(lambda fw, ev: self._inbox.append((fw, ev)))
        session.start()
        self._started_at = session.started_at
        self._timer.start()
        self.running_changed.emit(True)
        return run_dir

    def pause(self) -> None:
        if self.session:
            self.session.pause()

    def resume(self) -> None:
        if self.session:
            self.session.resume()

    def stop(self) -> None:
        if self.session and not self.session.finished:
            self.session.stop()

    def shutdown(self) -> None:
        """Window closing: stop now and leave no worker behind (charts being drawn get 5 s)."""
        if self.session:
            self.session.close()
        self.set_warm(False)
        if self._closer is not None:
            self._closer.join(10)
        if self._finalizer is not None:
            try:
                self._finalizer.wait(5)
            except subprocess.TimeoutExpired:
                self._finalizer.kill()
                self._finalizer.wait()
        self._timer.stop()

    # ---- the queued hop --------------------------------------------------------------------------

    def _drain(self) -> None:
        changed = False
        while self._inbox:
            fw, ev = self._inbox.popleft()
            kind = ev["type"]
            if kind == "steps":
                self.series[fw].extend(ev)
                if fw not in self.first_point_s and self._started_at is not None:
                    self.first_point_s[fw] = time.perf_counter() - self._started_at
                changed = True
            elif kind == "epoch":
                self.epochs[fw].append(ev)
                changed = True
            elif kind == "ready":
                self.infos[fw] = ev["info"]
                self._set_status(fw, "running")
            elif kind in ("paused", "resumed"):
                self._set_status(fw, "paused" if kind == "paused" else "running")
            elif kind == "status":
                if ev.get("error"):
                    run = self.session.runs[fw] if self.session else None
                    detail = (run.error_detail or "") if run else ""
                    log = "\n".join(run.log) if run else ""
                    self.errors[fw] = (ev["error"], (detail + "\n" + log).strip())
                self._set_status(fw, ev["status"])
        if changed:
            self.updated.emit()
        if (
            self.session is not None
            and self.session.finished
            and not self._inbox
            and not self._finishing
        ):
            self._finishing = True
            self.workers_done.emit()  # the canvas may unlock now, before the charts are drawn
            self._start_finalizer()
        if self._finishing and self._closed():
            self._end_run()

    def _set_status(self, fw: str, status: str) -> None:
        if self.status.get(fw) != status:
            self.status[fw] = status
            self.status_changed.emit(fw, status)

    def _start_finalizer(self) -> None:
        """Close the session and the run folder and start drawing charts, off the main thread:
        waiting for the workers to exit and writing summary.json took 50 ms or more, a visible
        stall of the window at the end of every run."""
        assert self.session is not None and self.recorder is not None and self.run_dir is not None
        self._closer = threading.Thread(
            target=self._close_and_finalize, daemon=True, name="run-closer"
        )
        self._closer.start()

    def _close_and_finalize(self) -> None:
        session, recorder, run_dir = self.session, self.recorder, self.run_dir
        try:
            session.close()
            summary = recorder.close()
            log = tempfile.TemporaryFile()  # noqa: SIM115 (read after the process ends)
            self._finalizer = subprocess.Popen(
                finalize_command(str(run_dir)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=child_cwd(),
            )
            self._finalizer_log = log
        except Exception as exc:  # a full disk, a folder removed under the run: say so, end the run
            summary = {
                "frameworks": {fw: {"status": st} for fw, st in self.status.items()},
                "report_error": f"writing the run folder failed: {type(exc).__name__}: {exc}",
            }
        self._closed_summary = summary

    def _closed(self) -> bool:
        """The closer is done and the charts process (if it started) has exited."""
        if self._closer is None or self._closer.is_alive():
            return False
        return self._finalizer is None or self._finalizer.poll() is not None

    def _end_run(self) -> None:
        """The run folder is complete: hand the summary over (main thread) and tell the views."""
        assert self._closed_summary is not None
        summary = dict(self._closed_summary)
        if self._finalizer is not None and self._finalizer.returncode != 0:
            self._finalizer_log.seek(0)
            tail = self._finalizer_log.read().decode("utf-8", "replace").strip().splitlines()[-1:]
            summary["report_error"] = (
                f"charts and report failed: {tail[0] if tail else self._finalizer.returncode}"
            )
        if self._finalizer_log is not None:
            self._finalizer_log.close()
        self._finalizer = self._finalizer_log = self._closer = None
        self.summary = summary
        self._timer.stop()
        self.running_changed.emit(False)
        self.finished.emit(summary)
