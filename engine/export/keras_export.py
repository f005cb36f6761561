"""Exports of the Keras runtimes on JAX and on PyTorch, run inside their own worker: ``.keras``
from both, ONNX from Keras on PyTorch (``model.export(format="onnx")`` through torch.onnx).

Keras on JAX exports ONNX only through jax2onnx, which TwinTrain does not install: a chosen
format the runtime cannot write is an entry with ``supported: False`` and the registry's reason
(``Runtime.no_export``), so exports.json says why the file is missing instead of staying silent.

Each written file is loaded back (Keras with ``safe_mode=True``) or run in ONNX Runtime and
compared with the backend's own inference output on the sample batch and a smaller one, as
torch_export and tf_export do. Keras was imported by the worker's backend with the runtime's
``KERAS_BACKEND``; this module imports ``keras`` only, never the backend's framework by name.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from engine.export.common import (
    Entry,
    attempt,
    batches,
    compare,
    entry,
    one_line,
    onnx_opset,
    remove,
    run_onnx,
)
from engine.export.formats import backend_column, file_name, formats_for, unsupported_for

if TYPE_CHECKING:
    from engine.backends.base import Backend


def export_keras(
    backend: Backend, formats: Iterable[str], out_dir: Path, sample_x: np.ndarray
) -> list[Entry]:
    """Write the chosen formats of a Keras-runtime backend (``backend.name`` is its runtime id)
    into ``out_dir``; one entry each, and one ``supported: False`` entry per format the runtime
    cannot write. Never raises: a format that fails is an entry with ok False and the reason."""
    framework = backend_column(backend)  # the column: its files are named after it
    formats = list(formats)
    try:
        chosen = formats_for(framework, formats)
        unsupported = unsupported_for(framework, formats)
    except Exception as exc:
        return [entry("all", framework, None, Path(out_dir), ok=False, reason=one_line(exc))]
    out_dir = Path(out_dir)
    entries = [_unsupported(f, framework, out_dir, why) for f, why in unsupported.items()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        model = _model(backend)
        xs = batches(sample_x)
        refs = [np.asarray(backend.predict(x)) for x in xs]
    except Exception as exc:
        reason = f"model could not be prepared for export: {one_line(exc)}"
        return entries + [
            entry(f, framework, file_name(framework, f), out_dir, ok=False, reason=reason)
            for f in chosen
        ]
    writers = {"keras": _keras, "onnx": _onnx}
    return entries + [
        attempt(
            f,
            framework,
            file_name(framework, f),
            out_dir,
            functools.partial(writers[f], model, xs, refs),
        )
        for f in chosen
    ]


def _unsupported(fmt: str, framework: str, out_dir: Path, why: str) -> Entry:
    """Not written because the runtime cannot write it: neither passed nor failed (ok None)."""
    out = entry(fmt, framework, None, out_dir, ok=False, supported=False, reason=why)
    out["ok"] = None
    return out


def _model(backend: Backend) -> keras.Model:
    """The Keras model holding the trained values: the JAX backend carries its state outside the
    variables and writes it back with ``sync()``; the torch backend trains the variables."""
    sync = getattr(backend, "sync", None)
    model = sync() if callable(sync) else getattr(backend, "model", None)
    if model is None:
        raise RuntimeError("the backend has no model (build() was not called)")
    return model


def _batches_text(xs: list[np.ndarray]) -> str:
    return " and ".join(str(len(x)) for x in xs)


def _run(model: keras.Model, x: np.ndarray) -> np.ndarray:
    out = model(keras.ops.convert_to_tensor(x), training=False)
    return np.asarray(keras.ops.convert_to_numpy(out))


def _keras(
    model: keras.Model, xs: list[np.ndarray], refs: list[np.ndarray], path: Path
) -> tuple[float, str, dict[str, Any]]:
    model.save(str(path))
    loaded = keras.models.load_model(str(path), safe_mode=True, compile=False)
    check = (
        f"keras.models.load_model(safe_mode=True) on Keras' {keras.backend.backend()} backend, "
        f"output vs the trained model's at batch {_batches_text(xs)}"
    )
    outs = [_run(loaded, x) for x in xs]
    return compare(list(zip(refs, outs)), check), check, {"keras_backend": keras.backend.backend()}


def _onnx(
    model: keras.Model, xs: list[np.ndarray], refs: list[np.ndarray], path: Path
) -> tuple[float, str, dict[str, Any]]:
    """Keras' own ONNX export (under torch it goes through torch.onnx), checked in ONNX Runtime."""
    try:
        model.export(str(path), format="onnx", verbose=False)
    except Exception:
        remove(path)
        raise
    opset = onnx_opset(path)
    check = (
        f"onnxruntime vs Keras at batch {_batches_text(xs)} "
        f"(keras model.export on {keras.backend.backend()}, opset {opset}, dynamic batch)"
    )
    diff = compare([(r, run_onnx(path, x)) for r, x in zip(refs, xs)], check)
    return diff, check, {"exporter": "keras model.export", "opset": opset}
