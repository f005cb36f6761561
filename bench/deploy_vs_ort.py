"""The deployment benchmark against a plain ONNX Runtime loop (issue 20).

Trains digits_cnn for one epoch with every export format into a temporary folder, runs
`twintrain bench-export RUN --batch 1,32` and times its whole wall time (the issue's goal: under
60 s for all eight formats at batch 1 and 32). Then, in the same run, times each ONNX file in a
plain-Python onnxruntime loop, the equivalent of `onnxruntime_perf_test`: a fresh process on one
core, the same file, the same thread count and session options, the same validation inputs,
its own warm-up, then back-to-back `session.run` calls for the same seconds. The plain loop
runs once right before bench-export and once right after; the ratio is bench-export's p50
over the faster of the two (noise on a shared machine only ever slows a run down, so the
faster plain run is the fairer reference, and the comparison errs against bench-export).
Prints the p50 latencies and the ratio (goal: within 20%). Prints figures; never pass/fail.

    .venv/bin/python bench/deploy_vs_ort.py [--seconds 2] [--threads 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WALL_GOAL_S = 60.0
RATIO_GOAL = 0.2
BATCHES = (1, 32)

# The plain loop, in a process of its own pinned to one core (as the benchmark's children are).
PLAIN_LOOP = r"""
import json, os, sys, time
import numpy as np
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
path, inputs, threads, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
import onnxruntime as ort
options = ort.SessionOptions()
options.log_severity_level = 3
options.intra_op_num_threads = threads
options.inter_op_num_threads = threads
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
x_all = np.load(inputs)["x"]
out = {}
for b in json.loads(sys.argv[5]):
    x = np.ascontiguousarray(np.concatenate([x_all] * (b // len(x_all) + 1))[:b], np.float32)
    feed = {name: x}
    end = time.perf_counter() + 0.2
    while time.perf_counter() < end:  # warm-up
        session.run(None, feed)
    lat = []
    end = time.perf_counter_ns() + int(seconds * 1e9)
    while True:
        t0 = time.perf_counter_ns()
        session.run(None, feed)
        t1 = time.perf_counter_ns()
        lat.append(t1 - t0)
        if t1 >= end:
            break
    out[str(b)] = float(np.percentile(np.asarray(lat) / 1e6, 50))
print(json.dumps(out))
"""


def twintrain(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", default=None, help="train into this folder and keep it")
    args = ap.parse_args()
    tmp = None
    if args.keep:
        run = Path(args.keep)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="deploy-bench-")
        run = Path(tmp.name) / "run"
    t = time.perf_counter()
    done = twintrain(
        "train", "digits_cnn", "--epochs", "1", "--export", "all", "--out", str(run), "--quiet"
    )
    if done.returncode:
        sys.exit(f"training failed:\n{done.stderr}")
    print(f"trained digits_cnn (1 epoch, --export all) in {time.perf_counter() - t:.1f} s")
    batch = ",".join(map(str, BATCHES))
    models = run / "models"
    onnx_files = sorted(p.name for p in models.glob("*.onnx") if ".int8-" not in p.name)
    with tempfile.TemporaryDirectory() as work:
        inputs = Path(work) / "inputs.npz"
        _save_inputs(run, inputs)
        before = {f: plain_loop(models / f, inputs, args.threads, args.seconds) for f in onnx_files}
        t = time.perf_counter()
        done = twintrain(
            "bench-export",
            str(run),
            "--batch",
            batch,
            "--threads",
            str(args.threads),
            "--seconds",
            str(args.seconds),
        )
        wall = time.perf_counter() - t
        after = {f: plain_loop(models / f, inputs, args.threads, args.seconds) for f in onnx_files}
    print(done.stdout)
    if done.returncode not in (0, 1):
        sys.exit(f"bench-export failed:\n{done.stderr}")
    result = json.loads((run / "deploy.json").read_text())
    files = [r for r in result["formats"] if not r["baseline"] and r["status"] != "skipped"]
    skipped = [r for r in result["formats"] if r["status"] == "skipped"]
    verdict = "within" if wall < WALL_GOAL_S else "ABOVE"
    print(
        f"bench-export wall time: {wall:.1f} s for {len(files)} files (+ "
        f"{sum(r['baseline'] for r in result['formats'])} eager baselines; {len(skipped)} rows "
        f"skipped) at batch {batch}, "
        f"{args.seconds:g} s per file and batch size ({verdict} the {WALL_GOAL_S:.0f} s goal); "
        f"phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in (result.get("phases_s") or {}).items())
    )
    print(
        f"\n{'file':<18} {'batch':>5} {'bench-export p50':>17} {'plain before':>13} "
        f"{'plain after':>12} ratio"
    )
    rows = {r["file"]: r for r in result["formats"] if r["format"] == "onnx"}
    for name in onnx_files:
        row = rows.get(name)
        if row is None or row["status"] != "ok":
            print(f"{name:<18} not timed by bench-export ({row and row['status']})")
            continue
        for b in BATCHES:
            ours = row["latency_ms"][str(b)]["p50"]
            plain = min(before[name][str(b)], after[name][str(b)])
            ratio = ours / plain
            mark = "" if abs(ratio - 1) <= RATIO_GOAL else "  (outside 20%)"
            print(
                f"{name:<18} {b:>5} {ours:>14.4f} ms {before[name][str(b)]:>10.4f} ms "
                f"{after[name][str(b)]:>9.4f} ms {ratio:.3f}{mark}"
            )
    if tmp is not None:
        tmp.cleanup()


def _save_inputs(run: Path, path: Path) -> None:
    """The benchmark's own inputs (the validation split as float32), as it hands them over."""
    import numpy as np

    from engine.deploy.benchmark import _inputs
    from engine.deploy.folder import resolve

    np.savez(path, x=_inputs(resolve(run))[0])


def plain_loop(path: Path, inputs: Path, threads: int, seconds: float) -> dict[str, float]:
    """{batch: p50 ms} of the plain onnxruntime loop in a fresh process."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PLAIN_LOOP,
            str(path),
            str(inputs),
            str(threads),
            str(seconds),
            json.dumps(list(BATCHES)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
