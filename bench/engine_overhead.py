"""Engine overhead: each runtime's engine train_step against a hand-written idiomatic step in the
same framework with no engine code, on the same preset, the same initial weights and the same
numpy batches:

- torch: an ``nn.Sequential``, eager loop, ``torch.optim.Adam``;
- tensorflow: a Keras Sequential, a ``tf.function`` step under a GradientTape;
- keras-jax: a Keras Sequential, ``stateless_call`` under ``jax.value_and_grad``,
  ``optimizer.stateless_apply``, the step under ``jax.jit`` with its state donated;
- keras-torch: a Keras Sequential, torch autograd (zero grads, forward, ``loss.backward()``,
  ``optimizer.apply`` under ``torch.no_grad``); and ``train_on_batch`` on a compiled model, the
  other idiomatic way, to show why the engine does not use it.

The reference models cover Flatten, Dense, Conv2D and MaxPool2D (digits_mlp, digits_cnn...).
Each runtime runs in its own subprocess (a process holds one Keras backend: KERAS_BACKEND is fixed
at the first keras import), one after the other, pinned to its first ``--threads`` cores; inside
it the variants take turns in short rounds (interleaved, alternating order) so that drift and
other load fall on all of them alike. Prints medians and ratios; never pass/fail.

Goal (issues 3 and 16): 'engine native' within 5% of 'hand-written' (ratio <= 1.05), with the
same optimizer (native mode: the framework's stock Adam). On torch and tensorflow matched mode
(TwinTrain's shared formulas) is shown too; the Keras runtimes run Keras' Adam in both modes.

    .venv/bin/python bench/engine_overhead.py [PRESET] [--rounds N] [--frameworks a,b]
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
from engine.runtimes import RUNTIMES, installed_runtimes, parse_runtimes  # noqa: E402
from engine.spec.graph import infer  # noqa: E402
from engine.weights import init_weights  # noqa: E402

CHUNK = 25  # steps per turn
WARMUP = 60
SUPPORTED = ("Flatten", "Dense", "Conv2D", "MaxPool2D")


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


def _layers(project) -> list[tuple[str, str, dict]]:
    """(type, id, resolved params) per layer; the hand-written models know a few layer types."""
    out = [(layer.type, layer.id, layer.resolved()) for layer in project.layers]
    for kind, lid, p in out:
        if kind not in SUPPORTED or p.get("activation", "none") not in ("none", "relu"):
            raise SystemExit(
                f"layer {lid!r} ({kind}): the hand-written reference models take "
                f"{', '.join(SUPPORTED)} with relu or no activation"
            )
        if not p.get("use_bias", True):
            raise SystemExit(f"layer {lid!r}: the hand-written reference models use biases")
    return out


def _act(p: dict) -> str | None:
    return None if p.get("activation", "none") == "none" else p["activation"]


def _pin(threads: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(cores[: max(1, threads)]))


# ---- PyTorch ------------------------------------------------------------------------------------


def _torch_reference(project, weights):
    """nn.Sequential on channels-last input (convolutions in NCHW between two permutes, so the
    Flatten order is Keras', as the spec's Dense kernels expect) and torch.optim.Adam."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a))

    class ToNCHW(nn.Module):
        def forward(self, x):
            return x.permute(0, 3, 1, 2)

    class ToNHWC(nn.Module):
        def forward(self, x):
            return x.permute(0, 2, 3, 1)

    mods: list[nn.Module] = []
    shape = list(project.input_shape)
    nchw = False
    for kind, lid, p in _layers(project):
        if kind in ("Conv2D", "MaxPool2D") and not nchw:
            mods.append(ToNCHW())
            nchw = True
        if kind == "Flatten":
            if nchw:
                mods.append(ToNHWC())
                nchw = False
            mods.append(nn.Flatten())
            shape = [int(np.prod(shape))]
        elif kind == "Dense":
            lin = nn.Linear(shape[-1], p["units"])
            with torch.no_grad():
                lin.weight.copy_(t(weights[lid]["kernel"].T))
                lin.bias.copy_(t(weights[lid]["bias"]))
            mods.append(lin)
            shape = [*shape[:-1], p["units"]]
        elif kind == "Conv2D":
            k, s = p["kernel_size"], p["strides"]
            conv = nn.Conv2d(shape[-1], p["filters"], k, stride=s, padding=p["padding"])
            with torch.no_grad():
                conv.weight.copy_(t(weights[lid]["kernel"].transpose(3, 2, 0, 1)))
                conv.bias.copy_(t(weights[lid]["bias"]))
            mods.append(conv)
            if p["padding"] == "same":
                shape = [-(-shape[0] // s), -(-shape[1] // s), p["filters"]]
            else:
                shape = [(shape[0] - k) // s + 1, (shape[1] - k) // s + 1, p["filters"]]
        else:  # MaxPool2D
            k, s = p["pool_size"], p["strides"] or p["pool_size"]
            mods.append(nn.MaxPool2d(k, s))
            shape = [(shape[0] - k) // s + 1, (shape[1] - k) // s + 1, shape[2]]
        if _act(p) == "relu":
            mods.append(nn.ReLU())
    if nchw:
        mods.append(ToNHWC())
    model = nn.Sequential(*mods)
    lr = project.training["optimizer"].get("learning_rate", 1e-3)
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)

    def step(x: np.ndarray, y: np.ndarray) -> float:
        xb, yb = torch.from_numpy(x), torch.from_numpy(y)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ---- Keras (any backend) ------------------------------------------------------------------------


def _keras_model(project, weights):
    """A plain Keras Sequential with the engine's initial weights, and Keras' stock Adam."""
    import keras

    made: list[tuple[object, str]] = []
    for kind, lid, p in _layers(project):
        if kind == "Flatten":
            layer = keras.layers.Flatten()
        elif kind == "Dense":
            layer = keras.layers.Dense(p["units"], activation=_act(p))
        elif kind == "Conv2D":
            layer = keras.layers.Conv2D(
                p["filters"], p["kernel_size"], p["strides"], p["padding"], activation=_act(p)
            )
        else:
            layer = keras.layers.MaxPooling2D(p["pool_size"], p["strides"], p["padding"])
        made.append((layer, lid))
    model = keras.Sequential([keras.Input(tuple(project.input_shape))] + [m for m, _ in made])
    for layer, lid in made:
        if lid in weights:
            layer.set_weights([weights[lid]["kernel"], weights[lid]["bias"]])
    lr = project.training["optimizer"].get("learning_rate", 1e-3)
    return model, keras.optimizers.Adam(learning_rate=lr, epsilon=1e-7)


def _tf_reference(project, weights):
    import keras
    import tensorflow as tf

    model, opt = _keras_model(project, weights)
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

    return lambda x, y: float(step(x, y))


def _jax_reference(project, weights):
    import jax
    import jax.numpy as jnp

    model, opt = _keras_model(project, weights)
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


def _keras_torch_reference(project, weights):
    import torch
    import torch.nn.functional as F

    model, opt = _keras_model(project, weights)
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

    model, opt = _keras_model(project, weights)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return lambda x, y: float(model.train_on_batch(x, y))


# Per runtime: the hand-written step, the engine's optimizer modes worth timing (the Keras
# runtimes run Keras' Adam in both), and extra idiomatic variants.
REFERENCE = {
    "torch": (_torch_reference, ("native", "matched"), {}),
    "tensorflow": (_tf_reference, ("native", "matched"), {}),
    "keras-jax": (_jax_reference, ("native",), {}),
    "keras-torch": (_keras_torch_reference, ("native",), {"train_on_batch": _train_on_batch}),
}


def variants(runtime: str, project, weights, threads: int) -> dict:
    from engine.backends import load_backend  # sets the runtime's env before its imports

    backend_cls = load_backend(runtime)
    reference, modes, extra = REFERENCE[runtime]
    out = {}
    for mode in modes:
        backend = backend_cls(project, threads=threads)
        backend.build(weights, optimizer_mode=mode)
        out[f"engine {mode}"] = backend.train_step
    if RUNTIMES[runtime].keras_backend == "torch" or runtime == "torch":
        import torch

        torch.set_num_threads(threads)
    out["hand-written"] = reference(project, weights)
    for name, make in extra.items():
        out[name] = make(project, weights)
    return out


def worker(runtime: str, preset: str, rounds: int, threads: int) -> dict:
    _pin(threads)
    project = load_project_arg(preset)
    spec = project.training.get("optimizer", {})
    if (
        spec.get("name", "adam") != "adam"
        or project.training.get("loss", "cross_entropy") != "cross_entropy"
    ):
        raise SystemExit("the hand-written reference steps use Adam and cross_entropy")
    _layers(project)  # refuse before any import
    weights = init_weights(project, infer(project), seed=0)
    batches = _batches(project, WARMUP + rounds * CHUNK)
    fns = variants(runtime, project, weights, threads)
    first = {name: fn(*batches[0]) for name, fn in fns.items()}
    for fn in fns.values():
        for x, y in batches[1:WARMUP]:
            fn(x, y)
    times: dict[str, list[float]] = {name: [] for name in fns}
    names, clock = list(fns), time.perf_counter
    for r in range(rounds):
        chunk = batches[WARMUP + r * CHUNK : WARMUP + (r + 1) * CHUNK]
        for name in names if r % 2 == 0 else names[::-1]:
            fn, out = fns[name], times[name]
            for x, y in chunk:
                t0 = clock()
                fn(x, y)
                out.append(clock() - t0)
    return {
        "median": {n: statistics.median(t) for n, t in times.items()},
        "p95": {n: float(np.percentile(t, 95)) for n, t in times.items()},
        "first_loss": first,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("preset", nargs="?", default="digits_mlp")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--frameworks",
        help=f"comma-separated, among {', '.join(RUNTIMES)} (default: every installed one)",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.preset, args.rounds, args.threads)))
        return
    chosen = parse_runtimes(args.frameworks) if args.frameworks else installed_runtimes()
    results = {}
    for rt in chosen:
        env = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_ENABLE_ONEDNN_OPTS="0",
            OMP_NUM_THREADS=str(args.threads),
            CUDA_VISIBLE_DEVICES="",
        )
        env.pop("KERAS_BACKEND", None)
        env.update(RUNTIMES[rt].env)  # the worker's Keras backend, fixed before keras is imported
        cmd = [sys.executable, __file__, args.preset, "--rounds", str(args.rounds)]
        cmd += ["--threads", str(args.threads), "--worker", rt]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            print(f"{rt} failed:\n{proc.stderr[-3000:]}")
            continue
        results[rt] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"{args.preset}: {args.rounds} rounds x {CHUNK} steps per variant, {args.threads} "
        "thread(s), interleaved; median (p95) step time; ratio = median / hand-written median"
    )
    print(
        f"{'runtime':<13}{'variant':<16}{'median us':>11}{'p95 us':>10}{'ratio':>8}"
        f"{'goal':>9}      first loss"
    )
    for rt, res in results.items():
        hand = res["median"]["hand-written"]
        for name, med in res["median"].items():
            goal = "<= 1.05" if name == "engine native" else ""
            mark = (" ok" if med / hand <= 1.05 else " over") if goal else ""
            print(
                f"{rt:<13}{name:<16}{med * 1e6:>11.1f}{res['p95'][name] * 1e6:>10.1f}"
                f"{med / hand:>8.3f}{goal:>9}{mark:<6}{res['first_loss'][name]:.7f}"
            )
    print("goal: 'engine native' within 5% of 'hand-written' (same optimizer), every runtime")


if __name__ == "__main__":
    main()
