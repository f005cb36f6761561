"""A worker's probe job (engine.divergence): replay the run's first N batches, then record, for
batch N+1, every layer's output, output gradient and weight gradients, and the change one
optimizer step makes to each weight; written as one ``.npz`` per column.

With ``isolate`` (the reference column's file), each layer is also run *alone*, fed the
reference's inputs to it and the reference's gradient of its output (``Backend.isolate``), so a
difference is pinned to the layer that makes it rather than to every layer it flows through.

Runs inside the column's worker (its backend built from the matched or trained weights, exactly
as a training job builds it), so nothing crosses processes but plain arrays. Keys in the file:
``input/output`` (the batch), ``LAYER/output``, ``LAYER/output_grad``, ``LAYER/grad/WEIGHT``,
``LAYER/update/WEIGHT``, and with isolation ``LAYER/iso_output``, ``LAYER/iso_grad/WEIGHT``;
read back with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.runtimes import file_stem
from engine.spec.project import INPUT_ID, write_atomic

if TYPE_CHECKING:
    from engine.backends.base import Backend

Probe = dict[str, dict[str, Any]]  # layer id -> output, output_grad, weight_grads, updates...
_FIELDS = {"grad": "weight_grads", "update": "updates", "iso_grad": "iso_grads"}


def probe_file(folder: str | Path, column: str) -> Path:
    return Path(folder) / f"{file_stem(column)}.npz"


def probe_job(job: dict[str, Any], backend: Backend, data: Any, training: dict[str, Any]) -> int:
    """Replay ``job['probe']['step']`` training steps on the run's own batches, probe the next
    batch, take its step, and write the file; returns the steps taken (replayed + 1)."""
    spec = job["probe"]
    step = int(spec["step"])
    batch, epochs, seed = training["batch_size"], training["epochs"], training["seed"]
    batches = (idx for e in range(max(epochs, 1) + 1) for idx in data.batch_indices(e, batch, seed))
    for _ in range(step):
        idx = next(batches)
        backend.train_step(data.x_train[idx], data.y_train[idx])
    idx = next(batches)
    x, y = data.x_train[idx], data.y_train[idx]
    before = backend.get_weights()
    found: Probe = backend.probe(x, y)
    if spec.get("isolate"):  # with the weights this batch met, before its step
        _isolate(found, load_probe(Path(spec["isolate"])), backend)
    backend.train_step(x, y)
    after = backend.get_weights()
    for lid, arrays in found.items():
        arrays["updates"] = {
            name: after[lid][name] - before[lid][name] for name in arrays["weight_grads"]
        }
    found[INPUT_ID] = {"output": x, "output_grad": None, "weight_grads": {}, "updates": {}}
    save_probe(found, probe_file(spec["dir"], job["framework"]))
    return step + 1


def _isolate(found: Probe, reference: Probe, backend: Backend) -> None:
    """Each layer alone on the reference's inputs and output gradient: ``iso_output`` and
    ``iso_grads`` beside the in-place figures."""
    nodes = backend.plan.nodes
    inputs = {n.id: [reference[ref]["output"] for ref in n.inputs] for n in nodes}
    grads = {n.id: reference[n.id]["output_grad"] for n in nodes}
    for lid, arrays in backend.isolate(inputs, grads).items():
        found[lid]["iso_output"] = arrays["output"]
        found[lid]["iso_grads"] = arrays["weight_grads"]


def save_probe(found: Probe, path: Path) -> None:
    flat: dict[str, np.ndarray] = {}
    for lid, arrays in found.items():
        for key in ("output", "output_grad", "iso_output"):
            if arrays.get(key) is not None:
                flat[f"{lid}/{key}"] = np.asarray(arrays[key], dtype=np.float32)
        for kind, field in (
            ("grad", "weight_grads"),
            ("update", "updates"),
            ("iso_grad", "iso_grads"),
        ):
            for name, value in arrays.get(field, {}).items():
                flat[f"{lid}/{kind}/{name}"] = np.asarray(value, dtype=np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **flat)  # named, so ** is the arrays
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buffer.getvalue())


def load_probe(path: Path) -> Probe:
    found: Probe = {}
    with np.load(path, allow_pickle=False) as npz:
        for key in npz.files:
            lid, _, rest = key.partition("/")
            arrays = found.setdefault(
                lid,
                {
                    "output": None,
                    "output_grad": None,
                    "iso_output": None,
                    "weight_grads": {},
                    "updates": {},
                    "iso_grads": {},
                },
            )
            kind, _, name = rest.partition("/")
            if kind in ("output", "output_grad", "iso_output"):
                arrays[kind] = npz[key]
            else:
                arrays[_FIELDS[kind]][name] = npz[key]
    return found
