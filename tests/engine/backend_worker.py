"""Runs one framework's side of the backend tests: ``python backend_worker.py FRAMEWORK OUT.npz``.

Each framework runs in its own process (torch and TensorFlow never share one). Every case is
batched into this one process to pay the framework's import once; results go to one .npz whose
keys are ``section|case|what[|layer|weight]``.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import backend_cases as cases  # noqa: E402
import keras_cases  # noqa: E402
import parity_matrix as matrix  # noqa: E402

from engine.backends import load_backend  # noqa: E402
from engine.data.load import load_data  # noqa: E402
from engine.presets import list_presets  # noqa: E402
from engine.spec.graph import infer  # noqa: E402
from engine.spec.project import read_project  # noqa: E402
from engine.weights import init_weights  # noqa: E402

NATIVE = ("mlp_sgd_nesterov", "mlp_adamw", "mlp_rmsprop_momentum", "lstm_adam")


def _weights(out: dict, prefix: str, weights: dict) -> None:
    for lid, arrays in weights.items():
        for name, a in arrays.items():
            out[f"{prefix}|{lid}|{name}"] = a


def forward(backend_cls, out: dict) -> None:
    for name, proj in cases.FORWARD.items():
        b = backend_cls(proj, threads=1)
        b.build(cases.weights_for(name, proj))
        x = cases.input_for(name, proj)
        out[f"fwd|{name}|params"] = np.array(b.info()["params"])
        _weights(out, f"fwd|{name}|w0", b.get_weights())
        out[f"fwd|{name}|eval"] = b.forward(x, training=False)
        if name.startswith("batchnorm"):
            out[f"fwd|{name}|train"] = b.forward(x, training=True)
            out[f"fwd|{name}|eval_after"] = b.predict(x)
            _weights(out, f"fwd|{name}|w1", b.get_weights())


def train(backend_cls, out: dict) -> None:
    for name, proj in cases.TRAIN.items():
        b = backend_cls(proj, threads=1)
        b.build(cases.weights_for(name, proj), optimizer_mode="matched")
        batches = cases.batches_for(name, proj)
        out[f"train|{name}|losses"] = np.array([b.train_step(x, y) for x, y in batches])
        x = np.concatenate([x for x, _ in batches[:4]])
        y = np.concatenate([y for _, y in batches[:4]])
        loss, acc = b.evaluate(x, y, batch_size=10)
        out[f"train|{name}|evaluate"] = np.array([loss, np.nan if acc is None else acc])
        _weights(out, f"train|{name}|w", b.get_weights())
        if hasattr(b.optimizer, "ops"):  # PyTorch: the multi-tensor path (GPU) computes the same
            f = backend_cls(proj, threads=1)
            f.build(cases.weights_for(name, proj), optimizer_mode="matched")
            f.optimizer.ops.foreach = not f.optimizer.ops.foreach
            out[f"train|{name}|losses_other_path"] = np.array(
                [f.train_step(x, y) for x, y in batches]
            )
        if hasattr(b, "_train_fn"):  # TensorFlow: the partial batches must not have retraced
            out[f"train|{name}|traces"] = np.array(b._train_fn.experimental_get_tracing_count())
        if name in NATIVE:
            # Native mode: each framework's own init and stock optimizer; it must run, not match.
            n = backend_cls(proj, threads=1)
            n.build(None, optimizer_mode="native")
            out[f"native|{name}|losses"] = np.array([n.train_step(x, y) for x, y in batches[:5]])
            for mode, backend in (("matched", b), ("native", n)):
                cls = type(backend.optimizer)
                out[f"{mode}|{name}|optimizer"] = np.array(f"{cls.__module__}.{cls.__name__}")


def presets(backend_cls, out: dict) -> None:
    for preset in list_presets():
        proj = read_project(preset.path)
        name = preset.key
        graph = infer(proj)
        b = backend_cls(proj, threads=1)
        b.build(init_weights(proj, graph, seed=0))
        data = load_data(proj)
        out[f"preset|{name}|params"] = np.array(b.info()["params"])
        out[f"preset|{name}|evaluate0"] = np.array(
            [v if v is not None else np.nan for v in b.evaluate(data.x_val, data.y_val, 64)]
        )
        out[f"preset|{name}|val_out"] = b.predict(data.x_val)
        out[f"preset|{name}|val_y"] = data.y_val
        losses = [
            b.train_step(data.x_train[idx], data.y_train[idx])
            for idx in data.batch_indices(0, 32, 0)[:5]
        ]
        out[f"preset|{name}|losses"] = np.array(losses)


def matrix_cases(backend_cls, out: dict, shard: int = 0, shards: int = 1) -> None:
    """The parity matrix (parity_matrix.py), every shards-th case from the shard-th: losses,
    evaluate() after training (BatchNorm in inference mode), predictions and trained weights."""
    for name in sorted(_MATRIX)[shard::shards]:
        case = _MATRIX[name]
        b = backend_cls(case.project, threads=1)
        b.build(matrix.weights_for(case), optimizer_mode="matched")
        batches = matrix.batches_for(case)
        out[f"matrix|{name}|losses"] = np.array([b.train_step(x, y) for x, y in batches])
        x = np.concatenate([x for x, _ in batches[:3]])
        y = np.concatenate([y for _, y in batches[:3]])
        out[f"matrix|{name}|evaluate"] = np.array(
            b.evaluate(x, y, batch_size=matrix.BATCH), dtype=np.float64
        )
        out[f"matrix|{name}|predict"] = b.predict(x)
        _weights(out, f"matrix|{name}|w", b.get_weights())


_MATRIX = matrix.cases()


def keras(backend_cls, out: dict) -> None:
    """The Keras runtimes' parity cases (keras_cases.py): losses, evaluate(), trained weights."""
    for name, proj in keras_cases.cases().items():
        b = backend_cls(proj, threads=1)
        b.build(keras_cases.weights_for(name, proj), optimizer_mode="matched")
        batches = keras_cases.batches_for(name, proj)
        out[f"keras|{name}|losses"] = np.array([b.train_step(x, y) for x, y in batches])
        x = np.concatenate([x for x, _ in batches[:3]])
        y = np.concatenate([y for _, y in batches[:3]])
        out[f"keras|{name}|evaluate"] = np.array(
            [v if v is not None else np.nan for v in b.evaluate(x, y, batch_size=16)]
        )
        _weights(out, f"keras|{name}|w", b.get_weights())


def on_device(backend_cls, out: dict, device: str) -> None:
    """The CUDA cases on one device, as the worker runs them (resolve_device first, which lets
    JAX look for a GPU): a forward pass before training, the losses, peak device memory."""
    assert backend_cls.resolve_device(device)[0] == device
    for name in cases.CUDA:
        proj = cases.TRAIN[name]
        b = backend_cls(proj, device=device, threads=1)
        b.build(cases.weights_for(name, proj), optimizer_mode="matched")
        batches = cases.batches_for(name, proj)
        out[f"{name}|forward"] = b.forward(batches[0][0], training=False)
        out[f"{name}|losses"] = np.array([b.train_step(x, y) for x, y in batches])
        peak = b.peak_device_bytes()
        out[f"{name}|peak"] = np.array(-1 if peak is None else peak)


def main() -> int:
    framework, dest = sys.argv[1], sys.argv[2]
    sections = sys.argv[3].split(",") if len(sys.argv) > 3 else ["forward", "train", "presets"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    backend_cls = load_backend(framework)
    out: dict = {}
    try:
        for section in sections:
            if section.startswith("device:"):  # device:cpu or device:cuda
                on_device(backend_cls, out, section.partition(":")[2])
                continue
            if section.startswith("matrix"):  # matrix or matrix:SHARD/SHARDS
                shard, _, shards = section.partition(":")[2].partition("/")
                matrix_cases(backend_cls, out, int(shard or 0), int(shards or 1))
                continue
            {
                "forward": forward,
                "train": train,
                "presets": presets,
                "keras": keras,
            }[section](backend_cls, out)
    except Exception:
        traceback.print_exc()
        return 1
    np.savez(dest, **out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
