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
import contextlib
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.child_process import child_cwd
from engine.defaults import MAX_WARMUP_STEPS
from engine.events import Compiled, Epoch, Paused, Ready, Resumed, Status, Steps
from engine.run_folder import RunRecorder, finalize_command, prepare_run_dir, run_stem
from engine.run_options import RunOptions
from engine.session import Session, core_plan
from engine.spec.project import Project
from engine.summary import warmup_steps
from engine.trained_weights import WEIGHTS_DIR
from engine.worker_pool import NICE_ENV, WorkerPool
from gui.paths import data_dir
from gui.run.buffers import Series
from gui.tasks import Task, run_command, run_in_background

TICK_MS = 33
CHARTS_GRACE_S = 5.0  # at window close, drawing the charts gets this long, then is killed
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
        self.compiles: dict[str, list[tuple[int, float]]] = {}
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
        self._closer: Task | None = None  # closes the session and run folder, draws the charts
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
        options: RunOptions | None = None,
        *,
        expected_steps: int = 0,
        fastest: dict[str, dict[str, Any]] | None = None,
    ) -> Path:
        """Start a run of ``project`` with ``options`` (the defaults where None); bad options
        raise engine.run_options.RunOptionsError before anything is created."""
        if self.running:
            raise RuntimeError("a run is already going; stop it first")
        options = (options or RunOptions()).validate()
        frozen = project.copy()  # the run keeps the project as it was when Train was pressed
        run_dir = prepare_run_dir(
            runs_dir() / f"{run_stem(project.name, project.path)}-{datetime.now():%Y%m%d-%H%M%S-%f}"
        )
        session = Session(
            frozen,
            **options.session_kwargs(run_dir / "models"),
            pool=self.pool,
            save_weights=run_dir / WEIGHTS_DIR,
        )  # File > Export Model… exports them
        session.fastest = fastest or {}  # the probes that chose RUNTIME:fastest's modes
        self.session, self.run_dir, self.summary, self._finishing = session, run_dir, None, False
        self.expected_steps = expected_steps  # per framework; the plots size their x axis by it
        w = warmup_steps(expected_steps) if expected_steps else MAX_WARMUP_STEPS
        self.series = {fw: Series(warmup=w) for fw in session.frameworks}
        self.epochs = {fw: [] for fw in session.frameworks}
        # (step, that step's time) where a column's step compiled: the step-time plot marks them
        self.compiles = {fw: [] for fw in session.frameworks}
        self.status = {fw: "starting" for fw in session.frameworks}
        self.infos, self.errors, self.first_point_s = {}, {}, {}
        self._inbox.clear()
        self._started_at = None
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
            if self.recorder is not None and not self._finishing:
                # closed mid-run: the finalizer never ran, so close the run folder's CSV files
                # here (they were left to the garbage collector: a ResourceWarning)
                with contextlib.suppress(OSError):
                    self.recorder.close()
        self.set_warm(False)
        if self._closer is not None:
            self._closer.cancel()  # the charts process gets CHARTS_GRACE_S, then is killed
            self._closer.wait(10 + CHARTS_GRACE_S)
        self._timer.stop()

    # ---- the queued hop --------------------------------------------------------------------------

    def _drain(self) -> None:
        changed = False
        while self._inbox:
            fw, ev = self._inbox.popleft()
            if isinstance(ev, Steps):
                self.series[fw].extend(ev.columns)
                if fw not in self.first_point_s and self._started_at is not None:
                    self.first_point_s[fw] = time.perf_counter() - self._started_at
                changed = True
            elif isinstance(ev, Epoch):
                self.epochs[fw].append(ev.as_dict())
                changed = True
            elif isinstance(ev, Compiled):
                self.compiles[fw].append((ev.step, ev.step_time_s))
                changed = True
            elif isinstance(ev, Ready):
                self.infos[fw] = ev.info
                self._set_status(fw, "running")
            elif isinstance(ev, (Paused, Resumed)):
                self._set_status(fw, "paused" if isinstance(ev, Paused) else "running")
            elif isinstance(ev, Status):
                if ev.error:
                    run = self.session.runs[fw] if self.session else None
                    detail = (run.error_detail or "") if run else ""
                    log = "\n".join(run.log) if run else ""
                    self.errors[fw] = (ev.error, (detail + "\n" + log).strip())
                self._set_status(fw, ev.status)
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

    def _set_status(self, fw: str, status: str) -> None:
        if self.status.get(fw) != status:
            self.status[fw] = status
            self.status_changed.emit(fw, status)

    def _start_finalizer(self) -> None:
        """Close the session and the run folder and draw the charts, off the main thread:
        waiting for the workers to exit and writing summary.json took 50 ms or more, a visible
        stall of the window at the end of every run."""
        assert self.session is not None and self.recorder is not None and self.run_dir is not None
        session, recorder, run_dir = self.session, self.recorder, self.run_dir
        status = dict(self.status)

        def close_and_finalize(task: Task) -> dict[str, Any]:
            try:
                session.close()
                summary = recorder.close()
            except Exception as exc:  # a full disk, a folder removed under the run: say so
                return {
                    "frameworks": {fw: {"status": st} for fw, st in status.items()},
                    "report_error": f"writing the run folder failed: {type(exc).__name__}: {exc}",
                }
            try:
                code, err = run_command(
                    task, finalize_command(str(run_dir)), cwd=child_cwd(), grace_s=CHARTS_GRACE_S
                )
            except OSError as exc:
                code, err = -1, f"could not start: {exc}"
            if code != 0:
                tail = err.strip().splitlines()[-1:]
                failed = f"charts and report failed: {tail[0] if tail else code}"
                summary = {**summary, "report_error": failed}
            return summary

        self._closer = run_in_background(
            close_and_finalize,
            on_result=self._end_run,
            on_error=lambda exc, _tb: self._end_run(
                {
                    "frameworks": {fw: {"status": st} for fw, st in status.items()},
                    "report_error": f"closing the run failed: {type(exc).__name__}: {exc}",
                }
            ),
            parent=self,
            name="run-closer",
        )

    def _end_run(self, summary: dict[str, Any]) -> None:
        """The run folder is complete: hand the summary over (main thread) and tell the views."""
        self._closer = None
        self.summary = summary
        self._timer.stop()
        self.running_changed.emit(False)
        self.finished.emit(summary)
