"""Engine overhead: a backend's train_step against a hand-written idiomatic loop in the same
framework (PyTorch: eager loop; TensorFlow: a tf.function step with GradientTape), on the same
preset, the same initial weights and the same numpy batches. Each framework runs in its own
subprocess, one after the other, single-threaded; inside it the variants take turns in short
rounds so that drift and other load on the machine fall on all of them alike. Prints medians and
ratios; never pass/fail.

Goal (issue 3): engine within 5% of the hand-written loop (ratio <= 1.05), compared with the
same optimizer (native mode: each framework's stock one). Matched mode (TwinTrain's shared
formulas) is shown too; on PyTorch it runs TwinTrain's own optimizer.

    .venv/bin/python bench/engine_overhead.py [PRESET] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data.load import load_data  # noqa: E402
from engine.presets import load_project_arg  # noqa: E402
from engine.spec.graph import infer  # noqa: E402
from engine.weights import init_weights  # noqa: E402

CHUNK = 25  # steps per turn
WARMUP = 60


def _batches(project, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    data = load_data(project)
    bs, seed = project.training.get("batch_size", 32), project.training.get("seed", 0)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    epoch = 0
    while len(out) < n:
        out += [
            (data.x_train[i], data.y_train[i])
            for i in data.batch_indices(epoch, bs, seed)
            if len(i) == bs
        ]
        epoch += 1
    return out[:n]


def _mlp_layers(project) -> list[tuple[int, str]]:
    """(units, activation) per Dense of a Flatten + Dense stack: the hand-written loops are MLPs."""
    layers = project.layers
    if layers[0].type == "Flatten":
        layers = layers[1:]
    if not all(layer.type == "Dense" for layer in layers):
        raise SystemExit("the hand-written reference loops are MLPs: pick a Flatten + Dense preset")
    return [(p["units"], p["activation"]) for p in (layer.resolved() for layer in layers)]


# ---- PyTorch ------------------------------------------------------------------------------------


def _torch_variants(project, weights, threads: int):
    import torch
    import torch.nn.functional as F
    from torch import nn

    from engine.backends.torch_backend import TorchBackend

    torch.set_num_threads(threads)
    spec = project.training["optimizer"]
    mods: list[nn.Module] = [nn.Flatten()]
    fan_in = int(np.prod(project.input_shape))
    for (units, act), lid in zip(
        _mlp_layers(project), [layer.id for layer in project.layers if layer.type == "Dense"]
    ):
        lin = nn.Linear(fan_in, units)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(weights[lid]["kernel"].T.copy()))
            lin.bias.copy_(torch.from_numpy(weights[lid]["bias"]))
        mods.append(lin)
        if act == "relu":
            mods.append(nn.ReLU())
        fan_in = units
    model = nn.Sequential(*mods)
    opt = torch.optim.Adam(model.parameters(), lr=spec.get("learning_rate", 1e-3), eps=1e-7)

    def reference(x: np.ndarray, y: np.ndarray) -> float:
        xb, yb = torch.from_numpy(x), torch.from_numpy(y)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    engines = {}
    for mode in ("native", "matched"):
        b = TorchBackend(project, threads=threads)
        b.build(weights, optimizer_mode=mode)
        engines[mode] = b.train_step
    return {
        "hand-written": reference,
        "engine native": engines["native"],
        "engine matched": engines["matched"],
    }


# ---- TensorFlow ---------------------------------------------------------------------------------


def _tf_variants(project, weights, threads: int):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from engine.backends.tf_backend import TFBackend

    engines = {}
    for mode in ("native", "matched"):
        b = TFBackend(project, threads=threads)
        b.build(weights, optimizer_mode=mode)
        engines[mode] = b.train_step

    import keras
    import tensorflow as tf

    spec = project.training["optimizer"]
    dense = [layer.id for layer in project.layers if layer.type == "Dense"]
    model = keras.Sequential(
        [keras.Input(tuple(project.input_shape)), keras.layers.Flatten()]
        + [
            keras.layers.Dense(u, activation=None if a == "none" else a)
            for u, a in _mlp_layers(project)
        ]
    )
    for layer, lid in zip(model.layers[1:], dense):
        layer.set_weights([weights[lid]["kernel"], weights[lid]["bias"]])
    opt = keras.optimizers.Adam(learning_rate=spec.get("learning_rate", 1e-3), epsilon=1e-7)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, *project.input_shape), tf.float32),
            tf.TensorSpec((None,), tf.int64),
        ]
    )
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    def reference(x: np.ndarray, y: np.ndarray) -> float:
        return float(step(x, y))

    return {
        "hand-written": reference,
        "engine native": engines["native"],
        "engine matched": engines["matched"],
    }


def worker(framework: str, preset: str, rounds: int, threads: int) -> dict:
    project = load_project_arg(preset)
    spec = project.training.get("optimizer", {})
    if (
        spec.get("name", "adam") != "adam"
        or project.training.get("loss", "cross_entropy") != "cross_entropy"
    ):
        raise SystemExit("the hand-written reference loops use Adam and cross_entropy")
    weights = init_weights(project, infer(project), seed=0)
    batches = _batches(project, WARMUP + rounds * CHUNK)
    make = _torch_variants if framework == "torch" else _tf_variants
    variants = make(project, weights, threads)
    times: dict[str, list[float]] = {name: [] for name in variants}
    first_losses = {name: fn(*batches[0]) for name, fn in variants.items()}
    for fn in variants.values():
        for x, y in batches[1:WARMUP]:
            fn(x, y)
    names = list(variants)
    clock = time.perf_counter
    for r in range(rounds):
        chunk = batches[WARMUP + r * CHUNK : WARMUP + (r + 1) * CHUNK]
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            fn, out = variants[name], times[name]
            for x, y in chunk:
                t0 = clock()
                fn(x, y)
                out.append(clock() - t0)
    return {
        "median": {n: statistics.median(t) for n, t in times.items()},
        "p95": {n: float(np.percentile(t, 95)) for n, t in times.items()},
        "first_loss": first_losses,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("preset", nargs="?", default="digits_mlp")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.preset, args.rounds, args.threads)))
        return
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0")
    results = {}
    for fw in ("torch", "tensorflow"):
        cmd = [
            sys.executable,
            __file__,
            args.preset,
            "--rounds",
            str(args.rounds),
            "--threads",
            str(args.threads),
            "--worker",
            fw,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            print(f"{fw} failed:\n{proc.stderr[-3000:]}")
            continue
        results[fw] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"{args.preset}: {args.rounds} rounds x {CHUNK} steps per variant, "
        f"{args.threads} thread(s); "
        "median (p95) step time"
    )
    print(
        f"{'framework':<12}{'variant':<16}{'median us':>11}{'p95 us':>10}{'ratio':>8}   first loss"
    )
    for fw, res in results.items():
        base = res["median"]["hand-written"]
        for name, med in res["median"].items():
            print(
                f"{fw:<12}{name:<16}{med * 1e6:>11.1f}{res['p95'][name] * 1e6:>10.1f}"
                f"{med / base:>8.3f}"
                f"   {res['first_loss'][name]:.7f}"
            )
    print("goal: 'engine native' ratio <= 1.05 (same optimizer as the hand-written loop)")


if __name__ == "__main__":
    main()
