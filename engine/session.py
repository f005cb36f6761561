"""A training session: one worker process per framework, driven and watched from here.

Qt-free; the CLI uses it directly and the GUI through one queued hop to its main thread.
Listeners are called from reader threads with ``(framework, event)`` after the session's own
state is updated. Guarantees: a worker that dies, hangs or misbehaves becomes an ``error``
event for its framework while the other goes on; ``close()`` (also at interpreter exit)
leaves no worker process behind; stop and pause act at the next batch boundary.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.defaults import HANG_TIMEOUT_S, START_TIMEOUT_S
from engine.events import (
    STEP_FIELDS,
    Compiled,
    Done,
    Epoch,
    Error,
    Event,
    Exports,
    Paused,
    ProtocolError,
    Ready,
    Resumed,
    Status,
    Steps,
    Yield,
    parse_line,
)
from engine.runtimes import DEFAULT_RUNTIMES, RUNTIMES, parse_runtimes
from engine.spec.errors import SpecError
from engine.spec.project import Project
from engine.worker_pool import LogPump, Plan, WorkerPool, shared_pool, spawn_worker, worker_env

SCHEDULES = ("parallel", "alternate", "sequential")
INITS = ("matched", "native")
DEVICES = ("auto", "cpu", "cuda")
TERMINAL = ("finished", "stopped", "error")

Listener = Callable[[str, Event], None]  # (framework, typed event; engine.events)


def gpu_present() -> bool:
    """A cheap look for an NVIDIA GPU without importing a framework."""
    import shutil

    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def available_cores() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def default_schedule(device: str, has_gpu: bool | None = None, runtimes: int = 2) -> str:
    """Parallel on the CPU (each framework its own cores); alternate on a GPU (one card, shared)
    and on a CPU with fewer cores than ``runtimes`` (parallel would have to share a core, or run
    in waves: one at a time with every core is the fairer default there).

    ``has_gpu``: what the caller already knows (the app's GPU probe); None looks now."""
    if has_gpu is None and device == "auto":
        has_gpu = gpu_present()
    on_gpu = device == "cuda" or (device == "auto" and bool(has_gpu))
    if on_gpu or runtimes > len(available_cores()):
        return "alternate"
    return "parallel"


def waves(frameworks: tuple[str, ...], schedule: str) -> list[tuple[str, ...]]:
    """The groups that compute at the same time, taking turns in chunks of steps. Parallel: one
    group of all, unless there are more runtimes than cores; then groups of as many as there are
    cores (in the order chosen), so that each runtime still has a core of its own while its steps
    are timed. Alternate and sequential: one runtime per group."""
    if schedule != "parallel":
        return [(f,) for f in frameworks]
    size = max(1, min(len(frameworks), len(available_cores())))
    return [tuple(frameworks[i : i + size]) for i in range(0, len(frameworks), size)]


def core_plan(frameworks: tuple[str, ...], schedule: str) -> Plan:
    """Cores and thread count per worker: in parallel each framework of a wave gets its own share
    of the cores (the same size for every runtime, so thread counts match); otherwise each may
    use them all, since only one computes at a time."""
    cores = available_cores()
    n = len(frameworks)
    if schedule != "parallel" or n == 1:
        return {f: (cores, len(cores)) for f in frameworks}
    groups = waves(frameworks, schedule)
    size = len(cores) // max(len(g) for g in groups)
    return {f: (cores[i * size : (i + 1) * size], size) for g in groups for i, f in enumerate(g)}


def schedule_text(schedule: str, groups: list[tuple[str, ...]], cores: int) -> str:
    """One line for the summary and the CLI: which schedule produced the numbers, and how."""
    if schedule == "parallel" and len(groups) > 1:
        shown = " | ".join(" + ".join(g) for g in groups)
        return (
            f"parallel in waves ({shown}): more runtimes than the {cores} cores, so each wave "
            "runs side by side, one core per runtime, and the waves take turns in chunks of steps"
        )
    return {
        "parallel": f"parallel: every runtime at once, each on its own share of the {cores} cores",
        "alternate": f"alternate: one runtime at a time with all {cores} cores, in chunks of steps",
        "sequential": f"sequential: one runtime after the other, each with all {cores} cores",
    }.get(schedule, schedule)


@dataclass
class FrameworkRun:
    """Everything the session knows about one framework's run."""

    name: str
    status: str = "starting"  # starting, ready, running, paused, finished, stopped, error
    info: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, list] = field(default_factory=lambda: {k: [] for k in STEP_FIELDS})
    epochs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    error_detail: str | None = None
    done: dict[str, Any] = field(default_factory=dict)
    log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=400))
    exports: list[dict[str, Any]] = field(default_factory=list)
    # (step, graphs so far, that step's time): each time its step traced or compiled (again)
    compiles: list[dict[str, Any]] = field(default_factory=list)
    started_at: float = 0.0
    ready_at: float | None = None
    last_event_at: float = 0.0
    process: subprocess.Popen | None = None
    cores: list[int] | None = None
    threads: int = 1
    prestarted: bool = False  # a warm worker from a WorkerPool, its framework already imported
    warm_reader: threading.Thread | None = None  # the pool's reader of its first line: joined first
    env: dict[str, str] | None = None  # the worker's environment (a serving pool's key)
    pump: LogPump | None = None  # reads the worker's stderr into ``log``
    handed_back: bool = False  # the worker went back to a serving pool after its job

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for session in list(_LIVE):
        session.close()


class Session:
    def __init__(
        self,
        project: Project,
        *,
        frameworks: tuple[str, ...] = DEFAULT_RUNTIMES,
        device: str = "auto",
        schedule: str | None = None,
        init: str = "matched",
        optimizer: str | None = None,
        epochs: int | None = None,
        chunk_steps: int = 25,
        rss_cap_bytes: int | None = None,
        hang_timeout_s: float = HANG_TIMEOUT_S,
        stop_grace_s: float = 3.0,
        pinning: dict[str, tuple[list[int] | None, int]] | None = None,
        export: dict[str, Any] | None = None,
        mode: str = "train",
        probe: dict[str, Any] | None = None,
        pool: WorkerPool | None = None,
        save_weights: str | os.PathLike | None = None,
        load_weights: str | os.PathLike | None = None,
    ) -> None:
        try:
            columns = parse_runtimes(frameworks) if frameworks else ()
        except SpecError:
            columns = ()
        if not columns or len(columns) != len(dict.fromkeys(frameworks)):
            raise ValueError(
                f"frameworks must be among {', '.join(RUNTIMES)} (each as RUNTIME or "
                f"RUNTIME:MODE), got {', '.join(frameworks)}"
            )
        if device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got '{device}'")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got '{init}'")
        self.project = project
        self.frameworks = columns
        self.device = device
        self.schedule = schedule or default_schedule(device, runtimes=len(self.frameworks))
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got '{self.schedule}'"
            )
        self.init = init
        self.optimizer = optimizer or init
        self.epochs = epochs
        self.chunk_steps = chunk_steps
        self.rss_cap_bytes = rss_cap_bytes
        self.hang_timeout_s = hang_timeout_s
        self.stop_grace_s = stop_grace_s
        self.pinning = pinning  # framework -> (cores, threads); overrides the schedule's plan
        # {"formats": [...], "dir": str}: workers write model files
        # (dir absolute: engine.child_process)
        self.export = None if export is None else {**export, "dir": os.path.abspath(export["dir"])}
        self.mode = (
            mode  # "train", or "export" (build from the initial weights, write files, no training)
        )
        self.tensorboard_dir: str | None = (
            None  # workers write tb/<framework>/ event files there (RunRecorder sets it)
        )
        # mode "probe": {"step": N, "dir": str}: replay N batches, probe the next one per layer
        # and write <dir>/<column>.npz (engine.divergence); nothing is trained beyond it
        self.probe = None if probe is None else {**probe, "dir": os.path.abspath(probe["dir"])}
        # warm workers to take from, where one matches exactly; without one, the test suite's
        # serving pool (engine.worker_pool.shared_pool), which takes the workers back
        self.pool = pool if pool is not None else shared_pool()
        # Folders (absolute) of <framework>.npz trained weights: written when training ends, or
        # read instead of the initial weights (an export of a run's trained models).
        self.save_weights = None if save_weights is None else os.path.abspath(save_weights)
        self.load_weights = None if load_weights is None else os.path.abspath(load_weights)
        self.runs = {f: FrameworkRun(f) for f in self.frameworks}
        # Who computes together; gated (given steps by 'go') unless all run at once.
        self.waves = waves(self.frameworks, self.schedule)
        self.gated = self.schedule != "parallel" or len(self.waves) > 1
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._all_done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._turn: int | None = None  # index into self.waves of the group computing now
        self._yielded: set[str] = set()  # members of that group that used up their chunk
        self._granted_at: dict[str, int] = {}  # steps each member had when its turn began
        self._stopping = False
        self._closed = False
        self._paused = False
        self.started_at: float | None = None
        self.stop_requested_at: float | None = None
        # runtime -> the probe that chose its mode for a RUNTIME:fastest column (engine.fastest)
        self.fastest: dict[str, dict[str, Any]] = {}
        _LIVE.add(self)

    # ---- public API ----------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        self.started_at = time.perf_counter()
        plan = {**core_plan(self.frameworks, self.schedule), **(self.pinning or {})}
        for name in self.frameworks:
            cores, threads = plan[name]
            self._spawn(self.runs[name], cores, threads)
        watchdog = threading.Thread(target=self._watch, daemon=True, name="session-watchdog")
        watchdog.start()
        self._threads.append(watchdog)

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            for run in self._active():
                self._send(run, {"cmd": "pause"})

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            for run in self._active():
                self._send(run, {"cmd": "resume"})

    def stop(self) -> None:
        """Ask every worker to stop at its next batch boundary; kill those not yet training."""
        with self._lock:
            self._stopping = True
            self.stop_requested_at = time.perf_counter()
            for run in self._active():
                if run.status == "starting":
                    self._finish(run, "stopped", None)
                    self._kill(run)
                else:
                    self._send(run, {"cmd": "stop"})
        threading.Thread(target=self._reap_after_grace, daemon=True, name="session-reaper").start()

    def wait(self, timeout: float | None = None) -> bool:
        """True once every framework has finished, stopped or failed."""
        return self._all_done.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._all_done.is_set()

    def close(self) -> None:
        """Stop everything now and make sure no worker process is left."""
        with self._lock:
            self._closed = True
            for run in self.runs.values():
                if not run.finished:
                    self._finish(run, "stopped", None)
                self._kill(run)
        for run in self.runs.values():
            if run.process is not None and not run.handed_back:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    run.process.wait(timeout=5)
        _LIVE.discard(self)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- workers ---------------------------------------------------------------------------------

    def _job(self, run: FrameworkRun) -> dict[str, Any]:
        return {
            "framework": run.name,
            "project": self.project.to_dict(),
            # Absolute: the worker runs in TwinTrain's own folder (engine.child_process).
            "project_path": os.path.abspath(self.project.path) if self.project.path else None,
            "epochs": self.epochs,
            "device": self.device,
            "init": self.init,
            "optimizer": self.optimizer,
            "threads": run.threads,
            "cores": run.cores,
            "gated": self.gated,
            "rss_cap_bytes": self.rss_cap_bytes,
            "export": self.export,
            "mode": self.mode,
            "probe": self.probe,
            "save_weights": self.save_weights,
            "load_weights": self.load_weights,
            "tensorboard": self.tensorboard_dir,
            "serve": self._serving,
        }

    @property
    def _serving(self) -> bool:
        return self.pool is not None and self.pool.serves

    def _spawn(self, run: FrameworkRun, cores: list[int] | None, threads: int) -> None:
        run.cores, run.threads = cores, threads
        run.started_at = run.last_event_at = time.perf_counter()
        run.env = worker_env()
        warm = self.pool.take(run.name, cores, threads) if self.pool is not None else None
        run.prestarted = warm is not None
        run.process = warm.process if warm else spawn_worker(run.name, env=run.env)
        run.warm_reader = warm.reader if warm else None
        if warm is not None and warm.pump is not None:  # served before: its reader carries on
            run.pump, warm.pump.sink = warm.pump, run.log
        else:
            run.pump = LogPump(run.process, run.name, run.log)
        self._send(run, self._job(run))
        t = threading.Thread(target=self._read_events, args=(run,), daemon=True, name=run.name)
        t.start()
        self._threads.append(t)

    def _send(self, run: FrameworkRun, message: dict[str, Any]) -> None:
        proc = run.process
        if run.handed_back or proc is None or proc.stdin is None or proc.poll() is not None:
            return
        try:
            proc.stdin.write((json.dumps(message) + "\n").encode())
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def _kill(self, run: FrameworkRun) -> None:
        proc = run.process
        if proc is None or run.handed_back:
            return
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
        for stream in (proc.stdin,):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def _hand_back(self, run: FrameworkRun) -> None:
        """After its job's ``done``: a serving pool keeps the worker for the next session. One it
        does not keep (stopped, closing) has its stdin closed: it ends as an unserved one does."""
        assert run.process is not None and run.pump is not None and run.env is not None
        if not self._serving or self.pool is None:
            return
        if not (self._stopping or self._closed or run.finished):
            run.handed_back = self.pool.give_back(
                run.name, run.cores, run.threads, run.env, run.process, run.pump
            )
        if not run.handed_back and run.process.stdin is not None:
            with contextlib.suppress(OSError):
                run.process.stdin.close()

    def _read_events(self, run: FrameworkRun) -> None:
        proc = run.process
        assert proc is not None and proc.stdout is not None
        if run.warm_reader is not None:
            run.warm_reader.join()  # a warm worker's first line is the pool's
        for raw in proc.stdout:
            try:
                event = parse_line(raw)
            except ProtocolError as exc:
                run.log.append(f"[twintrain] {exc}")
                continue
            self._handle(run, event)
            if run.handed_back:  # the pipe is the next session's now
                return
        proc.stdout.close()
        code = proc.wait()
        with self._lock:
            if not run.finished:
                why = _exit_reason(code)
                tail = "\n".join(list(run.log)[-30:])
                self._finish(run, "error", f"{run.name} worker {why} before finishing", tail)
            self._kill(run)

    def _handle(self, run: FrameworkRun, event: Event) -> None:
        with self._lock:
            run.last_event_at = time.perf_counter()
            if run.finished and not isinstance(event, Done):
                return
            if isinstance(event, Steps):
                for name, column in event.columns.items():
                    run.steps[name].extend(column)
            elif isinstance(event, Ready):
                run.info = event.info
                run.ready_at = time.perf_counter()
                run.status = "paused" if self._paused else "running"
                if self._paused:
                    self._send(run, {"cmd": "pause"})
                if self._stopping:
                    self._send(run, {"cmd": "stop"})
            elif isinstance(event, Exports):
                run.exports = list(event.entries)
            elif isinstance(event, Compiled):
                run.compiles.append(event.as_dict())
            elif isinstance(event, Epoch):
                run.epochs.append(event.as_dict())
            elif isinstance(event, Paused):
                run.status = "paused"
            elif isinstance(event, Resumed):
                run.status = "running"
            elif isinstance(event, Error):
                self._emit(run, event)
                self._finish(run, "error", event.message or "unknown error", event.traceback)
                self._kill(run)
                return
            elif isinstance(event, Done):
                run.done = event.as_dict()
                self._hand_back(run)
                self._emit(run, event)
                self._finish(run, "stopped" if event.status == "stopped" else "finished", None)
                return
            self._emit(run, event)
            if self.gated:
                self._schedule(run, event)

    def _finish(
        self, run: FrameworkRun, status: str, error: str | None, detail: str | None = None
    ) -> None:
        if run.finished:
            return
        run.status = status
        if error:
            run.error = error
            run.error_detail = detail
        self._emit(run, Status(status=status, error=error))
        if self.gated:
            self._schedule(run, None)
        if all(r.finished for r in self.runs.values()):
            self._all_done.set()

    def _emit(self, run: FrameworkRun, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(run.name, event)
            except Exception as exc:  # a listener's bug must not kill the reader thread
                run.log.append(f"[twintrain] listener failed: {exc!r}")

    # ---- scheduling ----------------------------------------------------------------------------

    def _active(self) -> list[FrameworkRun]:
        return [r for r in self.runs.values() if not r.finished]

    def _schedule(self, run: FrameworkRun, event: Event | None) -> None:
        """Gated schedules: exactly one wave (one runtime, or in parallel above the core count a
        group of them) computes at a time; the waves take turns round the order. ``event`` is
        what ``run`` just sent, or None when it finished."""
        pending = [r for r in self.runs.values() if not r.finished]
        if not pending:
            return
        if any(r.status == "starting" for r in pending):
            return  # wait until every worker is ready, so imports never overlap training
        if self._turn is None:
            if event is None or isinstance(event, Ready):
                self._grant(self._next_wave(-1))
            return
        members = self.waves[self._turn]
        if isinstance(event, Yield) and run.name in members:
            # A worker yields once when it first waits, which may be read only after its turn
            # began: a yield without a step since then is that one, not the end of its chunk
            # (steps are written before a yield, so a chunk's steps are already counted).
            if len(run.steps["step"]) > self._granted_at.get(run.name, -1):
                self._yielded.add(run.name)
        elif event is not None:
            return
        if all(n in self._yielded or self.runs[n].finished for n in members):
            self._grant(self._next_wave(self._turn))

    def _next_wave(self, after: int) -> int:
        """The next wave round the order (after index ``after``) with a runtime still training."""
        n = len(self.waves)
        for k in range(1, n + 1):
            i = (after + k) % n
            if any(not self.runs[f].finished for f in self.waves[i]):
                return i
        return after

    def _grant(self, wave: int) -> None:
        self._turn, self._yielded = wave, set()
        steps = None if self.schedule == "sequential" else self.chunk_steps
        for name in self.waves[wave]:
            self._granted_at[name] = len(self.runs[name].steps["step"])
            if not self.runs[name].finished:
                self._send(self.runs[name], {"cmd": "go", "steps": steps})

    # ---- watchdog ------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._all_done.wait(0.25):
            now = time.perf_counter()
            with self._lock:
                for run in self._active():
                    waiting = (
                        self.gated
                        and self._turn is not None
                        and (run.name not in self.waves[self._turn] or run.name in self._yielded)
                    )
                    if run.status in ("paused",) or waiting:
                        run.last_event_at = now
                        continue
                    limit = (
                        self.hang_timeout_s
                        if run.status != "starting"
                        else max(self.hang_timeout_s, START_TIMEOUT_S)
                    )
                    if now - run.last_event_at > limit:
                        self._finish(
                            run,
                            "error",
                            f"{run.name} worker sent nothing for {limit:.0f} s and was "
                            "declared unresponsive; it was stopped",
                            None,
                        )
                        self._kill(run)

    def _reap_after_grace(self) -> None:
        deadline = time.perf_counter() + self.stop_grace_s
        while time.perf_counter() < deadline:
            if self._all_done.wait(0.05):
                break
        with self._lock:
            for run in self.runs.values():
                if not run.finished:
                    self._finish(run, "stopped", None)
                    self._kill(run)


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory?)" if name == "SIGKILL" else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {code}"
