"""The benchmark's child process: one per file (``bench``), plus the quantizer (``quantize``)
and the chart drawer (``chart``). ``python -m engine.deploy.child KIND ...``, or the frozen
app's ``--twintrain-deploy KIND ...`` (engine.deploy.children.child_command).

``bench CORES``: pinned to CORES (comma-separated, or ``-``), it reads its job (one JSON line)
on stdin, imports the runtime, loads the file, runs it once (``first_inference_s``) and on the
validation inputs (the outputs go to an .npz for the parent to compare), answers ``ready``,
then serves the parent's commands, one JSON line each: ``warm`` and ``time`` (run the batch for
that many seconds; ``time`` keeps each inference's latency) and ``finish`` (the statistics, the
peak RSS; then it exits). Answers go to the original stdout only: everything printed by a
library goes to stderr, so nothing can corrupt them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from engine.worker import peak_rss_bytes

# Tests only: FILE:crash or FILE:hang makes the child of that file crash or hang once loaded.
FAULT_ENV = "TWINTRAIN_DEPLOY_FAULT"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    kind, rest = (argv[0], argv[1:]) if argv else ("", [])
    if kind == "bench":
        return bench_main(rest)
    if kind == "quantize":
        from engine.deploy.convert import quantize_main

        return quantize_main(rest)
    if kind == "chart":
        from engine.deploy.chart import chart_main

        return chart_main(rest)
    print(f"engine.deploy.child: unknown kind {kind!r} (bench, quantize or chart)", file=sys.stderr)
    return 2


def pin(cores: str) -> None:
    """These cores for the whole process (before any import starts a thread)."""
    if cores and cores != "-" and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {int(c) for c in cores.split(",")})


def answer_channel() -> IO[str]:
    """The original stdout for answers; fd 1 and sys.stdout then point at stderr."""
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def one_line(exc: BaseException) -> str:
    from engine.export.common import one_line as line

    return line(exc)


def batch_of(x: np.ndarray, size: int) -> np.ndarray:
    """``size`` samples: the first ones, repeated when there are fewer."""
    if len(x) >= size:
        return np.ascontiguousarray(x[:size])
    reps = -(-size // max(len(x), 1))
    return np.ascontiguousarray(np.concatenate([x] * reps)[:size])


def stats(latencies_ns: list[int], batch: int) -> dict[str, Any]:
    """p50/p90/p99/mean in milliseconds, and samples/s at the median."""
    ms = np.asarray(latencies_ns, dtype=np.float64) / 1e6
    if not len(ms):
        return {"iterations": 0}
    p50, p90, p99 = (float(v) for v in np.percentile(ms, [50, 90, 99]))
    return {
        "p50": p50,
        "p90": p90,
        "p99": p99,
        "mean": float(ms.mean()),
        "min": float(ms.min()),
        "iterations": len(ms),
        "samples_per_s": batch * 1000.0 / p50 if p50 > 0 else None,
    }


def run_for(infer: Callable[[Any], Any], prepared: Any, seconds: float, keep: list[int]) -> int:
    """Inferences until ``seconds`` have passed (at least one); each one's latency appended."""
    clock = time.perf_counter_ns
    end = clock() + int(seconds * 1e9)
    n = 0
    while True:
        t0 = clock()
        infer(prepared)
        t1 = clock()
        keep.append(t1 - t0)
        n += 1
        if t1 >= end:
            return n


def bench_main(argv: list[str]) -> int:
    pin(argv[0] if argv else "-")
    out = answer_channel()

    def send(**message: Any) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    line = sys.stdin.readline()
    if not line:
        return 3
    job = json.loads(line)
    phase = "start"
    try:
        import importlib

        from engine.backends import framework_import

        module, _, cls = job["runner"].partition(":")
        runner = getattr(importlib.import_module(module), cls)(job)
        phase = "import"
        t = time.perf_counter()
        try:
            with framework_import():
                versions = runner.imports()
        except ImportError as exc:
            send(event="skipped", reason=f"runtime not installed: {one_line(exc)}")
            return 0
        import_s = time.perf_counter() - t
        phase = "load"
        t = time.perf_counter()
        runner.load()
        load_s = time.perf_counter() - t
        phase = "first inference"
        with np.load(job["inputs"], allow_pickle=False) as data:
            x = np.ascontiguousarray(data["x"], dtype=np.float32)
        batches = [int(b) for b in job["batches"]]
        prepared = runner.prepare(batch_of(x, batches[0]))
        t = time.perf_counter()
        runner.infer(prepared)
        first_s = time.perf_counter() - t
        phase = "outputs"
        chunk = max(batches)
        outs = [
            np.asarray(runner.infer(runner.prepare(np.ascontiguousarray(x[i : i + chunk]))))
            for i in range(0, len(x), chunk)
        ]
        np.save(job["outputs"], np.concatenate(outs) if outs else np.zeros((0,), np.float32))
        fault = os.environ.get(FAULT_ENV, "")
        send(
            event="ready",
            import_s=import_s,
            load_s=load_s,
            session_s=runner.session_s,
            first_inference_s=first_s,
            versions=versions,
        )
        phase = "timing"
        latencies: dict[int, list[int]] = {b: [] for b in batches}
        current: tuple[int, Any] | None = None
        for raw in sys.stdin:
            msg = json.loads(raw)
            if fault and fault.partition(":")[0] == job.get("label"):
                _fault(fault.partition(":")[2])
            if msg["cmd"] == "finish":
                send(
                    event="finished",
                    latency={str(b): stats(v, b) for b, v in latencies.items()},
                    peak_rss_bytes=peak_rss_bytes(),
                )
                return 0
            b = int(msg["batch"])
            if current is None or current[0] != b:
                current = (b, runner.prepare(batch_of(x, b)))
            keep: list[int] = [] if msg["cmd"] == "warm" else latencies[b]
            n = run_for(runner.infer, current[1], float(msg["seconds"]), keep)
            if msg["cmd"] == "warm":
                while n < 3:  # at least a few warm-up inferences, however slow
                    n += run_for(runner.infer, current[1], 0.0, keep)
            send(event="done", n=n)
        return 3
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        send(event="error", reason=f"{phase}: {one_line(exc)}")
        return 1


def _fault(kind: str) -> None:
    if kind == "crash":
        os._exit(7)
    if kind == "hang":
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
