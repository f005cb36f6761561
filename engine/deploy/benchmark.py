"""The deployment benchmark's orchestrator (docs/deploy.md): every exported file loaded, timed
and checked in its runtime, each in a child process of its own, the children interleaved.

This module imports no framework and no matplotlib: the desktop app calls ``run_benchmark``
from a background thread. Only numpy and the engine's framework-free parts load here.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.deploy.children import Cancelled, Child, ChildFailed, child_command, child_env
from engine.deploy.folder import Item, Target, resolve
from engine.deploy.judge import accuracy, judge
from engine.deploy.registry import RUNNERS, heavy, runtime_name
from engine.spec.errors import SpecError

DEPLOY_FILE = "deploy.json"
CHART_FILE = "deploy.png"
CHART_SVG = "deploy.svg"
FORMAT = "twintrain-deploy/1"
# The timed seconds of a file at a batch size are spread over this many rounds; in each round
# every child runs its slice in turn, in a new random order.
ROUNDS = 10
# Warm-up per file and batch size: this share of ``seconds`` (at least 3 inferences), untimed.
WARMUP_SHARE = 0.05
LOAD_TIMEOUT_S = 300.0  # import, load, first inference and the outputs on the validation inputs
ANSWER_GRACE_S = 60.0  # beyond a slice's own seconds, before a silent child counts as hung
MAX_SAMPLES = 2000  # validation samples compared (and counted for accuracy), at most
SEED = 0

Progress = Callable[[int, int, str], None]


class BenchmarkCancelled(Exception):
    """cancelled() returned True: the children were stopped and nothing was written."""


def output_dir(folder: Path) -> Path:
    """Where deploy.json and the chart go: the run folder for a run (or its models/), else the
    export folder itself."""
    folder = Path(folder)
    if (folder / "models" / "exports.json").is_file():
        return folder
    if (folder / "exports.json").is_file() and (folder.parent / "summary.json").is_file():
        return folder.parent
    return folder


def chart_path(folder: Path) -> Path:
    """The chart's PNG (latency per format, grouped by framework) for ``folder``; its SVG is
    beside it as ``deploy.svg``."""
    return output_dir(folder) / CHART_FILE


def check_options(batches: tuple[int, ...] | None, threads: int, seconds: float) -> None:
    """SpecError, one line naming the option, for a value the benchmark cannot use."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SpecError(f"threads must be a whole number of 1 or more, got {threads!r}")
    if batches is not None:
        bad = [b for b in batches if isinstance(b, bool) or not isinstance(b, int) or b < 1]
        if bad or not batches:
            raise SpecError(
                f"batch sizes must be whole numbers of 1 or more, got {list(batches)!r}"
            )
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise SpecError(f"seconds must be a number above 0, got {seconds!r}")


def run_benchmark(
    folder: Path,
    *,
    batches: tuple[int, ...] | None = None,
    threads: int = 1,
    seconds: float = 2.0,
    quantized: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Benchmark every model file of a run folder or an export folder (docs/deploy.md).

    Writes ``deploy.json`` (the object returned) and the chart into ``output_dir(folder)`` and,
    for a run folder, rewrites its report.html with the Deployment section. Bad input raises
    SpecError; ``cancelled()`` returning True stops every child and raises BenchmarkCancelled.
    """
    check_options(batches, threads, seconds)
    started = time.perf_counter()
    target = resolve(Path(folder))
    x, y, inputs_text, loss = _inputs(target)
    sizes = tuple(dict.fromkeys(batches or _default_batches(target)))
    with tempfile.TemporaryDirectory(prefix="twintrain-deploy-") as tmp:
        work = Path(tmp)
        np.savez(work / "inputs.npz", x=x)
        run = _Run(target, work, sizes, threads, float(seconds), progress, cancelled)
        try:
            if quantized:
                run.phase("quantize", run.quantize)
            run.phase("load", run.load_all)
            run.phase("time", run.time_all)
            run.finish_all()
        except Cancelled:
            run.close_all()
            raise BenchmarkCancelled(
                "deployment benchmark cancelled; nothing was written"
            ) from None
        finally:
            run.close_all()
        rows = run.judge(y, loss)
    result: dict[str, Any] = {
        "format": FORMAT,
        "project": target.project.name,
        "folder": str(target.models),
        "threads": threads,
        "batches": list(sizes),
        "seconds": float(seconds),
        "rounds": ROUNDS,
        "inputs": inputs_text,
        "samples": int(len(x)),
        "task": "classification" if loss in ("cross_entropy", "binary_cross_entropy") else "other",
        "runtimes": dict(sorted(run.versions.items())),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "formats": rows,
        "wall_s": None,
        "phases_s": run.phases,
        "chart": str(target.out / CHART_FILE),
    }
    result["wall_s"] = time.perf_counter() - started
    _write(target.out / DEPLOY_FILE, result)
    run.step("drawing the chart", can_stop=False)  # deploy.json is written: it is done
    t = time.perf_counter()
    error = draw_chart(target.out, threads)
    run.phases["chart"] = time.perf_counter() - t
    if error:
        result["chart"] = None
        result["chart_error"] = error
        _write(target.out / DEPLOY_FILE, result)
    result["wall_s"] = time.perf_counter() - started
    _write(target.out / DEPLOY_FILE, result)
    return result


def draw_chart(out: Path, threads: int = 1) -> str | None:
    """The chart (and, in a run folder, report.html again) drawn in a child process, so
    matplotlib never loads here; None, or why it could not be drawn."""
    child = Child(child_command("chart", os.path.abspath(out)), child_env(threads))
    try:
        child.wait(LOAD_TIMEOUT_S)
        return None
    except ChildFailed as exc:
        return str(exc)
    finally:
        child.close()


def _write(path: Path, result: dict[str, Any]) -> None:
    from engine.export.manifest import _plain
    from engine.spec.project import write_atomic

    write_atomic(path, json.dumps(_plain(result), indent=1, allow_nan=False) + "\n")


def _default_batches(target: Target) -> tuple[int, ...]:
    """1 and the project's batch size (32 unless it says otherwise)."""
    from engine.spec.training import resolve_training

    try:
        size = int(resolve_training(target.project.training, None)["batch_size"])
    except (SpecError, KeyError, TypeError, ValueError):
        size = 32
    return (1, size) if size > 1 else (1, 32)


def _inputs(target: Target) -> tuple[np.ndarray, np.ndarray | None, str, str]:
    """(validation inputs as float32, their labels, what they are in words, the loss)."""
    from engine.backends.plan import make_plan
    from engine.data.load import load_data

    try:
        data = load_data(target.project)
    except (OSError, ValueError) as exc:
        raise SpecError(f"the project's data cannot be loaded: {exc}") from None
    if len(data.x_val):
        x, y, text = data.x_val, data.y_val, "the validation split"
    else:
        x, y, text = (
            data.x_train,
            data.y_train,
            "training samples (the project has no validation split)",
        )
    if len(x) > MAX_SAMPLES:
        text += f", its first {MAX_SAMPLES} samples"
    x = np.ascontiguousarray(x[:MAX_SAMPLES], dtype=np.float32)
    labels = np.asarray(y[:MAX_SAMPLES]) if data.task == "classification" else None
    return x, labels, text, make_plan(target.project).loss


class _Run:
    """The rows and their children during one benchmark."""

    def __init__(
        self,
        target: Target,
        work: Path,
        batches: tuple[int, ...],
        threads: int,
        seconds: float,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> None:
        self.target = target
        self.work = work
        self.batches = batches
        self.threads = threads
        self.seconds = seconds
        self.progress = progress
        self.cancelled = cancelled
        self.items: list[Item] = list(target.items)
        self.rows: list[dict[str, Any]] = []
        self.children: dict[int, Child] = {}
        self.versions: dict[str, str] = {}
        self.done = 0
        self.rng = random.Random(SEED)
        self.phases: dict[str, float] = {}
        self.total = len(self.items) + len(batches) * (ROUNDS + 1) + 2

    def phase(self, name: str, work: Callable[[], None]) -> None:
        t = time.perf_counter()
        work()
        self.phases[name] = time.perf_counter() - t

    # -- progress and cancel --------------------------------------------------------------------

    def step(self, text: str, n: int = 1, *, can_stop: bool = True) -> None:
        self.done = min(self.done + n, self.total)
        if self.progress is not None:
            self.progress(self.done, self.total, text)
        if can_stop and self.cancelled is not None and self.cancelled():
            raise Cancelled()

    # -- phases ---------------------------------------------------------------------------------

    def quantize(self) -> None:
        from engine.deploy.quantize import quantize

        self.step("quantizing (int8, dynamic range)", 0)
        made = quantize(self.items, self.target.models, self.threads, self.cancelled)
        self.items.extend(made)
        self.total += 2 * len(made)  # each one made, then each one loaded
        self.step("quantized", len(made))

    def load_all(self) -> None:
        """Start the children, as many loading at a time as the cores allow for the threads
        (each on cores of its own, the TensorFlow and Keras ones first: they take longest), and
        wait until each has loaded its file; a slot takes the next child as soon as it is free."""
        for item in self.items:
            self.rows.append(self._row(item))
        for i, item in enumerate(self.items):
            if item.error is not None:
                self._fail(i, item.error)
                self.step(f"{item.label}: {item.error}")
            elif item.skip is not None:
                self.rows[i]["status"], self.rows[i]["reason"] = "skipped", item.skip
                self.step(f"{item.label}: skipped")
        cpus = _cpus()
        slots = list(range(max(1, len(cpus) // self.threads)))
        pending = [
            i for i, item in enumerate(self.items) if item.error is None and item.skip is None
        ]
        pending.sort(key=lambda i: not heavy(self.items[i].format, self.items[i].keras_backend))
        loading: dict[int, int] = {}  # row -> its slot
        while pending or loading:
            while pending and slots:
                slot, i = slots.pop(0), pending.pop(0)
                self._start(i, cpus[slot * self.threads : (slot + 1) * self.threads])
                if i in self.children:
                    loading[i] = slot
                else:
                    slots.append(slot)
                    self.step(f"{self.items[i].label}: failed")
            for i in list(loading):
                if self._loaded(i):
                    slots.append(loading.pop(i))
            if self.cancelled is not None and self.cancelled():
                raise Cancelled()
            time.sleep(0.005)

    def time_all(self) -> None:
        slice_s = self.seconds / ROUNDS
        warm_s = self.seconds * WARMUP_SHARE
        for b in self.batches:
            self._round(b, "warm", warm_s)
            self.step(f"batch {b}: warm-up done")
            for r in range(ROUNDS):
                self._round(b, "time", slice_s)
                self.step(f"batch {b}: round {r + 1} of {ROUNDS}")

    def finish_all(self) -> None:
        for i, child in list(self.children.items()):
            try:
                answer = child.ask({"cmd": "finish"}, ANSWER_GRACE_S, self.cancelled)
            except ChildFailed as exc:
                self._fail(i, str(exc))
                continue
            row = self.rows[i]
            row["peak_rss_bytes"] = answer.get("peak_rss_bytes")
            latency = {}
            for b in self.batches:
                figures = dict(answer["latency"].get(str(b)) or {})
                latency[str(b)] = figures
            row["latency_ms"] = latency
            largest = latency.get(str(max(self.batches))) or {}
            row["samples_per_s"] = largest.get("samples_per_s")
            child.close()
            del self.children[i]
        self.step("timing done")

    def close_all(self) -> None:
        for child in self.children.values():
            child.close()
        self.children.clear()

    # -- one row --------------------------------------------------------------------------------

    def _row(self, item: Item) -> dict[str, Any]:
        from engine.export.common import path_bytes
        from engine.runtimes import runtime

        size_of = item.weights if item.baseline else item.path
        size = path_bytes(size_of) if size_of is not None and size_of.exists() else None
        return {
            "file": item.label,
            "format": item.format,
            "framework": item.framework,
            "runtime": runtime_name(item.format, runtime(item.framework).id, item.keras_backend),
            "keras_backend": item.keras_backend,
            "baseline": item.baseline,
            "quantized": item.quantized,
            "source": item.source,
            "status": "ok",
            "reason": None,
            "size_bytes": size,
            "import_s": None,
            "load_s": None,
            "session_s": None,
            "first_inference_s": None,
            "latency_ms": {},
            "samples_per_s": None,
            "peak_rss_bytes": None,
            "max_abs_diff": None,
            "tolerance": None,
            "accuracy": None,
        }

    def _job(self, i: int) -> dict[str, Any]:
        item = self.items[i]
        project = self.target.project
        return {
            "label": item.label,
            "format": item.format,
            "runner": RUNNERS[item.format].runner,
            "framework": item.framework,
            "keras_backend": item.keras_backend,
            "path": str(item.path.resolve()) if item.path is not None else None,
            "weights": str(item.weights.resolve()) if item.weights is not None else None,
            "project": json.loads(project.to_json()),
            "project_path": str(project.path.resolve()) if project.path else None,
            "inputs": str(self.work / "inputs.npz"),
            "outputs": str(self.work / f"out{i}.npy"),
            "batches": list(self.batches),
            "threads": self.threads,
        }

    def _start(self, i: int, cores: list[int]) -> None:
        args = child_command("bench", ",".join(map(str, cores)) or "-")
        try:
            child = Child(args, child_env(self.threads))
            child.send(self._job(i))
        except (OSError, ChildFailed) as exc:
            self._fail(i, f"could not start: {exc}")
            return
        self.children[i] = child

    def _loaded(self, i: int) -> bool:
        """Whether row ``i``'s child is done loading (ready, skipped or failed)."""
        child = self.children[i]
        label = self.items[i].label
        try:
            answer = child.poll()
            if answer is None:
                if time.monotonic() - child.started < LOAD_TIMEOUT_S:
                    return False
                child.kill()
                raise ChildFailed(
                    f"no answer in {LOAD_TIMEOUT_S:.0f} s while loading (hung); stopped"
                )
        except ChildFailed as exc:
            self._fail(i, str(exc))
            self.step(f"{label}: failed")
            return True
        row = self.rows[i]
        if answer.get("event") == "skipped":
            row["status"], row["reason"] = "skipped", answer.get("reason")
            child.close()
            del self.children[i]
            self.step(f"{label}: skipped")
            return True
        for key in ("import_s", "load_s", "session_s", "first_inference_s"):
            row[key] = answer.get(key)
        versions = dict(answer.get("versions") or {})
        self.versions.update(versions)
        if "ai_edge_litert" in versions:
            row["runtime"] = "litert"
        self.step(f"{label}: loaded in {answer.get('load_s', 0):.2f} s")
        return True

    def _round(self, batch: int, cmd: str, seconds: float) -> None:
        order = list(self.children)
        self.rng.shuffle(order)
        for i in order:
            child = self.children[i]
            try:
                child.ask(
                    {"cmd": cmd, "batch": batch, "seconds": seconds},
                    seconds + ANSWER_GRACE_S,
                    self.cancelled,
                )
            except ChildFailed as exc:
                self._fail(i, f"batch {batch}: {exc}")
        if self.cancelled is not None and self.cancelled():
            raise Cancelled()

    def _fail(self, i: int, reason: str) -> None:
        row = self.rows[i]
        row["status"] = "failed"
        row["reason"] = " ".join(str(reason).split())[:400]
        child = self.children.pop(i, None)
        if child is not None:
            child.close()

    # -- the outputs compared -------------------------------------------------------------------

    def judge(self, labels: np.ndarray | None, loss: str) -> list[dict[str, Any]]:
        outputs: dict[int, np.ndarray] = {}
        for i, row in enumerate(self.rows):
            if row["status"] == "ok":
                path = self.work / f"out{i}.npy"
                if path.is_file():
                    outputs[i] = np.load(path, allow_pickle=False)
                    row["accuracy"] = accuracy(outputs[i], labels, loss)
        baselines = {
            self.items[i].framework: outputs.get(i)
            for i, item in enumerate(self.items)
            if item.baseline
        }
        by_label = {
            row["file"]: row for row in self.rows if row["format"] in ("onnx", "savedmodel")
        }
        for i, row in enumerate(self.rows):
            if i not in outputs:
                continue
            item = self.items[i]
            if item.baseline:
                row["max_abs_diff"] = 0.0 if outputs[i].size else None
                continue
            source = by_label.get(item.source or "")
            if item.quantized:
                row["float_accuracy"] = source.get("accuracy") if source else None
            judge(
                row,
                baselines.get(item.framework),
                outputs[i],
                quantized=item.quantized,
                source_accuracy=row.get("float_accuracy"),
            )
        return self.rows


def _cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))
