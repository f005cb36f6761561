"""Step time of every runtime (torch, tensorflow, keras-jax, keras-torch) on one preset, and the
engine overhead of the Keras runtimes against a hand-written idiomatic step with no engine code:

- keras-jax hand-written: a Keras model, ``stateless_call`` under ``jax.value_and_grad``,
  ``optimizer.stateless_apply``, the step under ``jax.jit`` with its state donated;
- keras-torch hand-written: a Keras model, torch autograd (zero grads, forward,
  ``loss.backward()``, ``optimizer.apply`` under ``torch.no_grad``); and ``train_on_batch`` on a
  compiled model, the other idiomatic way, to show why the engine does not use it.

Each runtime runs in its own subprocess (one Keras backend per process), single-threaded, pinned
to one core; inside it the variants take turns in short rounds (interleaved, alternating order)
so drift and other load fall on all alike. Prints medians and ratios; never pass/fail.

    .venv/bin/python bench/keras_backends.py [PRESET] [--rounds N]
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
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from engine_overhead import _batches, _mlp_layers  # noqa: E402

from engine.presets import load_project_arg  # noqa: E402
from engine.spec.graph import infer  # noqa: E402
from engine.weights import init_weights  # noqa: E402

CHUNK = 25
WARMUP = 40
RUNTIMES = ("torch", "tensorflow", "keras-jax", "keras-torch")


def _keras_mlp(project, weights):
    """A plain Sequential Keras MLP with the engine's initial weights (no engine code)."""
    import keras

    dense = [layer.id for layer in project.layers if layer.type == "Dense"]
    model = keras.Sequential(
        [keras.Input(tuple(project.input_shape)), keras.layers.Flatten()]
        + [
            keras.layers.Dense(u, activation=None if a == "none" else a)
            for u, a in _mlp_layers(project)
        ]
    )
    for layer, lid in zip(model.layers[1:], dense, strict=True):
        layer.set_weights([weights[lid]["kernel"], weights[lid]["bias"]])
    spec = project.training["optimizer"]
    opt = keras.optimizers.Adam(learning_rate=spec.get("learning_rate", 1e-3), epsilon=1e-7)
    return model, opt


def _hand_jax(project, weights):
    import jax
    import jax.numpy as jnp

    model, opt = _keras_mlp(project, weights)
    opt.build(model.trainable_variables)

    def loss_fn(tv, ntv, x, y):
        out, ntv = model.stateless_call(tv, ntv, x, training=True)
        logp = jax.nn.log_softmax(out)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1)), ntv

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state, x, y):
        tv, ntv, ov = state
        (loss, ntv), grads = grad_fn(tv, ntv, x, y)
        tv, ov = opt.stateless_apply(ov, grads, tv)
        return loss, (tv, ntv, ov)

    state = [
        [jnp.copy(v.value) for v in model.trainable_variables],
        [jnp.copy(v.value) for v in model.non_trainable_variables],
        [jnp.copy(v.value) for v in opt.variables],
    ]
    step_fn = jax.jit(step, donate_argnums=0)

    def run(x, y):
        nonlocal state
        loss, state = step_fn(state, x, y.astype(np.int32))
        return float(loss)

    return run


def _hand_torch(project, weights):
    import torch
    import torch.nn.functional as F

    model, opt = _keras_mlp(project, weights)
    opt.build(model.trainable_variables)
    trainable = list(model.trainable_weights)
    params = [v.value for v in trainable]

    def run(x, y):
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(torch.from_numpy(x), training=True), torch.from_numpy(y))
        loss.backward()
        with torch.no_grad():
            opt.apply([p.grad for p in params], trainable)
        return float(loss.detach())

    return run


def _train_on_batch(project, weights):
    import keras

    model, opt = _keras_mlp(project, weights)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def run(x, y):
        return float(model.train_on_batch(x, y))

    return run


def worker(runtime: str, preset: str, rounds: int, threads: int) -> dict:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from engine.backends import load_backend

    project = load_project_arg(preset)
    weights = init_weights(project, infer(project), seed=0)
    batches = _batches(project, WARMUP + rounds * CHUNK)
    backend = load_backend(runtime)(project, threads=threads)
    backend.build(weights, optimizer_mode="native")
    variants = {"engine": backend.train_step}
    if runtime == "keras-jax":
        variants["hand-written"] = _hand_jax(project, weights)
    elif runtime == "keras-torch":
        import torch

        torch.set_num_threads(threads)
        variants["hand-written"] = _hand_torch(project, weights)
        variants["train_on_batch"] = _train_on_batch(project, weights)
    first = {name: fn(*batches[0]) for name, fn in variants.items()}
    for fn in variants.values():
        for x, y in batches[1:WARMUP]:
            fn(x, y)
    times: dict[str, list[float]] = {name: [] for name in variants}
    names, clock = list(variants), time.perf_counter
    for r in range(rounds):
        chunk = batches[WARMUP + r * CHUNK : WARMUP + (r + 1) * CHUNK]
        for name in names if r % 2 == 0 else names[::-1]:
            fn, out = variants[name], times[name]
            for x, y in chunk:
                t0 = clock()
                fn(x, y)
                out.append(clock() - t0)
    return {
        "median": {n: statistics.median(t) for n, t in times.items()},
        "first_loss": first,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("preset", nargs="?", default="digits_mlp")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", help="comma-separated runtimes (default: all)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.preset, args.rounds, args.threads)))
        return
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_ENABLE_ONEDNN_OPTS="0",
        OMP_NUM_THREADS=str(args.threads),
        CUDA_VISIBLE_DEVICES="",
    )
    env.pop("KERAS_BACKEND", None)
    results = {}
    for rt in args.only.split(",") if args.only else RUNTIMES:
        cmd = [sys.executable, __file__, args.preset, "--rounds", str(args.rounds)]
        cmd += ["--threads", str(args.threads), "--worker", rt]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            print(f"{rt} failed:\n{proc.stderr[-3000:]}")
            continue
        results[rt] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"{args.preset}: {args.rounds} rounds x {CHUNK} steps per variant, {args.threads} "
        "thread(s), native mode (Keras' stock Adam); median step time"
    )
    print(f"{'runtime':<13}{'variant':<16}{'median us':>11}{'vs hand':>9}   first loss")
    for rt, res in results.items():
        hand = res["median"].get("hand-written")
        for name, med in res["median"].items():
            ratio = f"{med / hand:>9.3f}" if hand else f"{'':>9}"
            print(f"{rt:<13}{name:<16}{med * 1e6:>11.1f}{ratio}   {res['first_loss'][name]:.7f}")
    print("goal: keras-jax and keras-torch 'engine' within 5% of 'hand-written' (ratio <= 1.05)")


if __name__ == "__main__":
    main()
