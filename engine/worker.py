"""A framework worker process: trains one project in one framework and streams events.

Started fresh (never forked) by ``engine.session`` as ``python -m engine.worker`` or, frozen,
as the app's own executable with ``--twintrain-worker``. The job arrives as the first JSON
line on stdin; later stdin lines are commands (go, pause, resume, stop). Events go to the
original stdout descriptor; fd 1 itself is pointed at stderr so that libraries which print
(exporters, TF) cannot corrupt the stream. When stdin closes (the parent died) the worker
exits at once, so no worker outlives its session.

A job with ``"serve": true`` asks the worker to wait for another job line after its ``done``
(engine.worker_pool: a pool that serves, which the test suite uses so that hundreds of short runs
do not each import a framework afresh). Between jobs the worker clears what a framework keeps per
process (Keras' session, torch.compile's caches) and its peak-memory mark, so each job's figures
are its own; the app never asks for it, so what it measures is always a fresh process's.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from engine.backends.base import Backend
    from engine.data.load import Data
    from engine.spec.project import Project

from engine.events import EventWriter
from engine.worker_pool import NICE_ENV

RSS_EVERY_S = 0.02


class Control:
    """Commands from the session, read by a thread and checked at every batch boundary."""

    def __init__(self, gated: bool) -> None:
        self.stop = threading.Event()
        self.paused = threading.Event()
        self.wake = threading.Condition()
        self.jobs: queue.Queue[dict[str, Any]] = queue.Queue()  # the next jobs of a serving worker
        self.reset(gated)

    def reset(self, gated: bool) -> None:
        """A new job's state: nothing stopped or paused, no steps granted if gated."""
        with self.wake:
            self.stop.clear()
            self.paused.clear()
            self.budget: float = 0 if gated else math.inf  # steps allowed before the next 'go'
            self.stop_received: float | None = None  # perf_counter when 'stop' arrived

    def listen(self, stream: Iterable[str]) -> None:
        for line in stream:
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            if not isinstance(cmd, dict):
                continue
            if "cmd" not in cmd:  # a job line: the next job of a worker that serves
                self.jobs.put(cmd)
                continue
            with self.wake:
                kind = cmd.get("cmd")
                if kind == "stop":
                    if self.stop_received is None:
                        self.stop_received = time.perf_counter()
                    self.stop.set()
                elif kind == "pause":
                    self.paused.set()
                elif kind == "resume":
                    self.paused.clear()
                elif kind == "go":
                    steps = cmd.get("steps")
                    self.budget = math.inf if steps is None else self.budget + int(steps)
                self.wake.notify_all()
        os._exit(3)  # stdin closed: the session is gone

    def wait_turn(self, events: EventWriter) -> bool:
        """Block while paused or out of budget; False once stop was requested."""
        if self.stop.is_set():
            return False
        if not self.paused.is_set() and self.budget > 0:
            return True
        with self.wake:
            if self.paused.is_set():
                events.emit("paused")
                while self.paused.is_set() and not self.stop.is_set():
                    self.wake.wait()
                if not self.stop.is_set():
                    events.emit("resumed")
            if self.budget <= 0 and not self.stop.is_set():
                events.emit("yield")
                while self.budget <= 0 and not self.stop.is_set():
                    self.wake.wait()
        return not self.stop.is_set()


def _mib_up(n: int) -> str:
    """Bytes as MiB rounded up to a tenth, so a reading just over a cap never prints as equal to
    it."""
    return f"{math.ceil(n * 10 / 2**20) / 10:.1f}"


class Fault:
    """Test-only fault injection: TWINTRAIN_TEST_FAULT=framework:kind:step (kind: raise, exit,
    hang, nan, memory)."""

    def __init__(self, framework: str) -> None:
        spec = os.environ.get("TWINTRAIN_TEST_FAULT", "")
        parts = spec.split(":")
        self.kind, self.step = None, -1
        if len(parts) == 3 and parts[0] == framework:
            self.kind, self.step = parts[1], int(parts[2])
        self._hog: list[bytearray] = []

    def at(self, step: int, loss: float) -> float:
        if step != self.step and not (self.kind == "memory" and step >= self.step):
            return loss
        if self.kind == "raise":
            raise RuntimeError(f"injected failure at step {step}")
        if self.kind == "exit":
            os._exit(7)
        if self.kind == "hang":
            time.sleep(3600)
        if self.kind == "nan":
            return float("nan")
        if self.kind == "memory":
            self._hog.append(bytearray(64 << 20))
            for i in range(0, len(self._hog[-1]), 4096):
                self._hog[-1][i] = 1
        return loss


def _lower_priority() -> int | None:
    """Lower this worker's priority by ``$TWINTRAIN_WORKER_NICE`` steps (the app sets 5), so the
    window gets a core when both workers keep both busy: on 2 cores it cut the window's worst
    stall from 55-100 ms to 18-40 ms, and both workers equally so. Returns the niceness now, or
    None where it cannot be read."""
    try:
        steps = max(0, min(int(os.environ.get(NICE_ENV, "0")), 19))
    except ValueError:
        steps = 0
    try:
        if hasattr(os, "nice"):
            return os.nice(steps)
        if steps:
            import psutil

            psutil.Process().nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)  # Windows
    except OSError:
        pass
    return None


def _pin(cores: list[int] | None, threads: int) -> None:
    """Thread counts for libraries not loaded yet, and these cores for every thread of the
    process (on Linux affinity is per thread: threads an import already started keep theirs)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if cores and hasattr(os, "sched_setaffinity"):
        try:
            tids = [int(t) for t in os.listdir("/proc/self/task")]
        except OSError:
            tids = [0]
        for tid in tids:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, set(cores))


def _preload(framework: str, datasets: bool = False) -> None:
    """The imports a first step needs: the framework and (warm workers, which cannot know the
    dataset yet) sklearn's dataset loaders."""
    from engine.backends import preload

    preload(framework)
    if datasets:
        import sklearn.datasets  # noqa: F401


def _build(
    backend_cls: type[Backend],
    project: Project,
    device: str,
    threads: int,
    init: str,
    optimizer: str,
    weights_from: str | Path | None,
    mode: str,
) -> tuple[Data, dict[str, Any], Backend]:
    """(data, resolved training section, built backend) for a project: one path for a job and for
    a warm worker's rehearsal, so the rehearsal warms up exactly what a job will run.
    ``weights_from``: a .npz of trained weights (engine.trained_weights) to build from instead;
    ``mode``: the execution mode (engine.runtimes.Runtime.modes)."""
    from engine.data.load import load_data
    from engine.spec import validate
    from engine.spec.training import resolve_training

    graph = validate(project)
    data = load_data(project)
    training = resolve_training(project.training, graph.dataset.task if graph.dataset else None)
    backend = backend_cls(project, device=device, threads=threads, mode=mode)
    weights = None
    if weights_from:
        from engine.trained_weights import load_weights

        weights = load_weights(weights_from)
    elif init == "matched":
        from engine.weights import init_weights

        weights = init_weights(project, graph, training["seed"])
    backend.build(weights, optimizer_mode=optimizer)
    return data, training, backend


def _rehearse(framework: str, threads: int) -> None:
    """Build a tiny model and take one training step on it, then discard it, so the one-time
    set-up of a framework's first model (TensorFlow's first function trace, about 0.1 s here;
    PyTorch's autograd engine, 0.04 s) is paid by a warm worker before its job, not by the
    user's first step. Every build reseeds, so no number of the real run changes. ``threads``: the
    job's (TensorFlow fixes its thread pools at the first model). Always in the runtime's default
    mode: a compiled mode's first compile (Inductor's or XLA's own start-up included) is part of
    what its column measures, so a warm worker must not pay it in advance."""
    from engine.backends import load_backend
    from engine.presets import load_project_arg
    from engine.runtimes import runtime

    data, training, backend = _build(
        load_backend(framework),
        load_project_arg("xor_mlp"),
        "cpu",
        threads,
        "matched",
        "matched",
        None,
        runtime(framework).default_mode,
    )
    n = training["batch_size"]
    backend.train_step(data.x_train[:n], data.y_train[:n])
    del backend
    from engine.runtimes import runtime

    if runtime(framework).keras_backend is not None:
        import keras

        keras.backend.clear_session()  # layer-name counters and graphs back to a fresh process's


def _export(job: dict[str, Any], backend: Backend, data: Data, events: EventWriter) -> None:
    """Write this framework's model files (inside its own worker) and report them; the exporter
    is the runtime's (``Runtime.exporter`` in engine.runtimes)."""
    import importlib
    from pathlib import Path

    from engine.runtimes import runtime

    spec = job.get("export") or {}
    sample = data.x_val[:16] if len(data.x_val) else data.x_train[:16]
    module, _, name = runtime(job["framework"]).exporter.partition(":")
    export = getattr(importlib.import_module(module), name)
    entries = export(backend, spec.get("formats", []), Path(spec["dir"]), sample)
    events.emit("exports", entries=entries)


def _done_untimed(events: EventWriter, steps: int) -> None:
    """The last event of a job that trains nothing timed (an export, a layer probe)."""
    events.emit(
        "done",
        status="finished",
        steps=steps,
        peak_rss_bytes=peak_rss_bytes(),
        peak_device_bytes=None,
        train_s=0.0,
    )


class _TensorBoard:
    """The run's TensorBoard scalars for this framework (tb/<framework>/ in the run folder).
    Steps are queued in the loop (a tuple append) and written between epochs and at the end,
    outside any timed step; a file that cannot be written never stops training."""

    def __init__(self, folder: str | None, framework: str, wall_offset: float) -> None:
        self.pending: list[tuple[int, float, float, float]] = []
        self.wall_offset = wall_offset  # perf_counter to time.time()
        self.writer = None
        if folder:
            try:
                from pathlib import Path

                from engine.runtimes import file_stem
                from engine.tensorboard_events import EventWriter

                self.writer = EventWriter(Path(folder) / file_stem(framework))
            except OSError:
                self.writer = None

    def _write_steps(self) -> None:
        pending, self.pending = self.pending, []
        if self.writer is None:
            return
        for step, loss, step_time, t_end in pending:
            self.writer.scalars(
                step,
                {"train/loss": loss, "train/step_time_ms": step_time * 1e3},
                wall_time=self.wall_offset + t_end,
            )

    def epoch(
        self, step: int, train_loss: float, val_loss: float | None, val_accuracy: float | None
    ) -> None:
        try:
            self._write_steps()
            if self.writer is not None:
                self.writer.scalars(
                    step,
                    {
                        "epoch/train_loss": train_loss,
                        "epoch/val_loss": val_loss,
                        "epoch/val_accuracy": val_accuracy,
                    },
                )
                self.writer.flush()
        except (OSError, ValueError):
            self.writer = None

    def close(self) -> None:
        try:
            self._write_steps()
            if self.writer is not None:
                self.writer.close()
        except (OSError, ValueError):
            pass
        self.writer = None


def _keep_weights(backend: Backend, folder: str, framework: str) -> None:
    """Write the weights at the end of an epoch (outside every timed step), so a run keeps its
    trained weights whether it finishes or is stopped, and a stop stays immediate."""
    from engine.trained_weights import save_weights, weights_file

    try:  # the run's figures stand even when its weights cannot be kept
        save_weights(backend.get_weights(), weights_file(folder, framework))
    except Exception:
        traceback.print_exc()


def peak_rss_bytes() -> int:
    """This process's peak resident memory, in bytes (the worker's and a deploy child's). On Linux
    the kernel's high-water mark (VmHWM), which a serving worker resets between jobs."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)
    except ImportError:  # Windows
        import psutil

        return int(psutil.Process().memory_info().peak_wset)


def run(
    job: dict[str, Any],
    events: EventWriter,
    control: Control,
    preloaded_s: float | None = None,
    nice: int | None = None,
) -> None:
    """Train (or export) one job. ``preloaded_s``: this is a warm worker whose imports took that
    long before the job came; its ``import_s`` is then what was left to import (about 0).
    ``nice``: the worker's niceness, reported in its info."""
    from engine.runtimes import split_column

    framework = job["framework"]  # the column: RUNTIME or RUNTIME:MODE
    mode = split_column(framework)[1]
    threads = int(job.get("threads") or 1)
    _pin(job.get("cores"), threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()

    import psutil

    from engine.backends import load_backend
    from engine.spec import from_dict

    _preload(framework)
    backend_cls = load_backend(framework)
    import_s = time.perf_counter() - t0
    project = from_dict(job["project"])
    if job.get("project_path"):
        from pathlib import Path

        project.path = Path(job["project_path"])
    if job.get("epochs"):
        project.training["epochs"] = int(job["epochs"])
    device, device_note = backend_cls.resolve_device(job.get("device", "auto"))
    weights_from = None
    if job.get("load_weights"):
        from engine.trained_weights import weights_file

        weights_from = weights_file(job["load_weights"], framework)
        if not weights_from.is_file():
            raise FileNotFoundError(
                f"no trained {framework} weights in {job['load_weights']} "
                f"({weights_from.name} missing)"
            )
    data, training, backend = _build(
        backend_cls,
        project,
        device,
        threads,
        job.get("init", "matched"),
        job.get("optimizer", "matched"),
        weights_from,
        mode,
    )
    info = dict(backend.info())
    info.update(
        device=device,
        device_note=device_note,
        pid=os.getpid(),
        import_s=round(import_s, 4),
        cores=job.get("cores"),
        setup_s=round(time.perf_counter() - t0, 4),
        prestarted=preloaded_s is not None,
        preload_s=None if preloaded_s is None else round(preloaded_s, 4),
        nice=nice,
    )
    events.emit("ready", info=info)
    if job.get("mode") == "probe":
        from engine.layer_probe import probe_job

        _done_untimed(events, probe_job(job, backend, data, training))
        return
    if job.get("mode") == "export":
        _export(job, backend, data, events)
        _done_untimed(events, 0)
        return

    process = psutil.Process()
    on_device = info.get("device", "cpu") != "cpu"
    rss_cap = job.get("rss_cap_bytes")
    fault = Fault(framework)
    batch_size, epochs, seed = training["batch_size"], training["epochs"], training["seed"]
    x_train, y_train = data.x_train, data.y_train
    step = 0
    rss = process.memory_info().rss
    device_bytes = backend.peak_device_bytes() if on_device else None
    last_sample = -math.inf  # the first step samples memory, so a cap holds even for a short run
    start = time.perf_counter()
    tb = _TensorBoard(job.get("tensorboard"), framework, time.time() - start)
    status = "finished"
    graphs = backend.compiles()  # a compile at build time (none today) is not a step's
    for epoch in range(epochs):
        epoch_start = time.perf_counter()
        loss_sum, seen = 0.0, 0
        for idx in data.batch_indices(epoch, batch_size, seed):
            if not control.wait_turn(events):
                status = "stopped"
                break
            xb, yb = x_train[idx], y_train[idx]
            t_step = time.perf_counter()
            loss = backend.train_step(xb, yb)
            t_end = time.perf_counter()
            step += 1
            control.budget -= 1
            loss = fault.at(step, loss)
            if (now_graphs := backend.compiles()) != graphs:
                graphs = now_graphs
                events.emit("compiled", step=step, graphs=graphs, step_time_s=t_end - t_step)
            if t_end - last_sample >= RSS_EVERY_S:
                rss = process.memory_info().rss
                if on_device:
                    device_bytes = backend.peak_device_bytes()
                last_sample = t_end
                if rss_cap and rss > rss_cap:
                    events.emit(
                        "error",
                        message=(
                            f"memory (RSS) reached {_mib_up(rss)} MiB at step {step}, "
                            "above the cap of "
                            f"{rss_cap / 2**20:g} MiB; {framework} was stopped"
                        ),
                        step=step,
                    )
                    tb.close()
                    return
            events.step(
                (step, epoch + 1, loss, t_end - t_step, len(idx), rss, device_bytes, t_end - start)
            )
            tb.pending.append((step, loss, t_end - t_step, t_end))
            if not math.isfinite(loss):
                events.emit(
                    "error",
                    message=(
                        f"loss became {loss} at step {step} (epoch {epoch + 1}); "
                        f"{framework} was stopped. "
                        "Try a smaller learning rate."
                    ),
                    step=step,
                )
                tb.close()
                return
            loss_sum += loss * len(idx)
            seen += len(idx)
        if status == "stopped":
            break
        val_loss, val_acc = (None, None)
        if len(data.x_val):
            val_loss, val_acc = backend.evaluate(data.x_val, data.y_val, batch_size)
        events.emit(
            "epoch",
            epoch=epoch + 1,
            train_loss=loss_sum / max(seen, 1),
            val_loss=val_loss,
            val_accuracy=val_acc,
            epoch_time_s=time.perf_counter() - epoch_start,
            steps=step,
        )
        if job.get("save_weights"):
            _keep_weights(backend, job["save_weights"], framework)
        tb.epoch(step, loss_sum / max(seen, 1), val_loss, val_acc)
    tb.close()
    if status == "finished" and job.get("export"):
        _export(job, backend, data, events)
    stop_latency = time.perf_counter() - control.stop_received if control.stop_received else None
    events.emit(
        "done",
        status=status,
        steps=step,
        stop_latency_s=stop_latency,
        peak_rss_bytes=max(peak_rss_bytes(), rss),
        peak_device_bytes=backend.peak_device_bytes() if on_device else None,
        train_s=time.perf_counter() - start,
    )


def main(argv: list[str] | None = None) -> int:
    """``FRAMEWORK [--warm CORES THREADS]``: with ``--warm`` (a pre-started worker) pin to CORES
    (comma-separated, or -) with THREADS threads and import the framework before the job comes."""
    argv = list(sys.argv[1:] if argv is None else argv)
    framework = argv[0] if argv else ""
    events_fd = os.dup(1)
    os.dup2(2, 1)  # anything printed now goes to stderr, not into the event stream
    sys.stdout = sys.stderr
    events = EventWriter(events_fd)
    nice = _lower_priority()
    preloaded_s = None
    if len(argv) >= 4 and argv[1] == "--warm":
        cores = None if argv[2] == "-" else [int(c) for c in argv[2].split(",")]
        _pin(cores, int(argv[3]))
        t = time.perf_counter()
        try:
            _preload(framework, datasets=True)
            _rehearse(framework, int(argv[3]))
        except Exception:  # the job will import again and report the failure as an event
            traceback.print_exc()
        preloaded_s = time.perf_counter() - t
        events.emit("warm", framework=framework, pid=os.getpid(), preload_s=round(preloaded_s, 4))
    first = sys.stdin.readline()
    if not first:
        return 3
    job = json.loads(first)
    control = Control(gated=bool(job.get("gated")))
    threading.Thread(target=control.listen, args=(sys.stdin,), daemon=True, name="control").start()
    while True:
        job["framework"] = framework or job.get("framework")
        code = _one_job(job, events, control, preloaded_s, nice)
        if code or not job.get("serve"):
            return code
        _between_jobs(job["framework"])
        job = control.jobs.get()  # stdin closing ends the process (Control.listen)
        control.reset(gated=bool(job.get("gated")))
        preloaded_s = 0.0  # imported by an earlier job: this one pays no import


def _one_job(
    job: dict[str, Any],
    events: EventWriter,
    control: Control,
    preloaded_s: float | None,
    nice: int | None,
) -> int:
    from engine.compile_cache import cold_compile_caches

    try:
        with cold_compile_caches():
            run(job, events, control, preloaded_s, nice)
    except BaseException as exc:  # every failure becomes an event for the session
        events.emit(
            "error",
            message=f"{type(exc).__name__}: {exc}".strip(),
            traceback=traceback.format_exc(),
        )
        events.flush()
        return 1
    events.flush()
    return 0


def _between_jobs(framework: str) -> None:
    """What a framework keeps per process, cleared so that the next job starts as in a fresh
    worker: Keras' session (layer-name counters, graphs), torch.compile's caches (a new model's
    forward would otherwise count against the recompile limit of the last one's) and the
    peak-memory mark (Linux: /proc/self/clear_refs)."""
    import gc

    from engine.runtimes import runtime

    if runtime(framework).keras_backend is not None:
        import keras

        keras.backend.clear_session()
    if "torch" in sys.modules:
        import torch

        torch._dynamo.reset()
    gc.collect()
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


if __name__ == "__main__":
    sys.exit(main())
