"""TensorFlow/Keras exports, run inside the TensorFlow worker: .keras, SavedModel, TFLite, ONNX.

Each file is loaded back (Keras with ``safe_mode=True``), run in the TFLite interpreter or in
ONNX Runtime, and compared with the Keras model's own inference output on the sample batch and
on a smaller one (so a batch axis frozen to the sample's size is caught).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import contextlib  # noqa: E402
import functools  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Iterable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from engine.export.common import (  # noqa: E402
    Entry,
    attempt,
    batches,
    compare,
    entry,
    match_umask,
    one_line,
    onnx_opset,
    remove,
    run_onnx,
)
from engine.export.formats import backend_column, file_name, formats_for  # noqa: E402

if TYPE_CHECKING:
    from engine.backends.base import Backend

FRAMEWORK = "tensorflow"
ONNX_OPSET = 17


def export_tf(
    backend: Backend, formats: Iterable[str], out_dir: Path, sample_x: np.ndarray
) -> list[Entry]:
    """Write the chosen TensorFlow formats of ``backend.model`` into ``out_dir``; one entry each.

    ``backend`` is a built engine.backends.tf_backend.TFBackend; ``formats`` are names from
    engine.export.formats (others' formats and 'all' are fine: this writes its own).
    Never raises: a format that fails is an entry with ok False and the reason."""
    column = backend_column(backend, FRAMEWORK)
    try:
        chosen = formats_for(FRAMEWORK, formats)
    except Exception as exc:
        return [entry("all", column, None, Path(out_dir), ok=False, reason=one_line(exc))]
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        model = backend.model
        if model is None:
            raise RuntimeError("the backend has no model (build() was not called)")
        xs = batches(sample_x)
        refs = [_run_keras(model, x) for x in xs]
    except Exception as exc:
        reason = f"model could not be prepared for export: {one_line(exc)}"
        return [
            entry(f, column, file_name(column, f), out_dir, ok=False, reason=reason) for f in chosen
        ]
    writers = {"keras": _keras, "savedmodel": _savedmodel, "tflite": _tflite, "onnx": _onnx}
    return [
        attempt(
            f,
            column,
            file_name(column, f),
            out_dir,
            functools.partial(writers[f], model, xs, refs),
        )
        for f in chosen
    ]


def _run_keras(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(tf.constant(x), training=False))


def _batches_text(xs: list[np.ndarray]) -> str:
    return " and ".join(str(len(x)) for x in xs)


def _signature(model: keras.Model) -> tuple[tf.TensorSpec, ...]:
    shape = tuple(model.inputs[0].shape[1:])
    return (tf.TensorSpec((None, *shape), tf.float32, name="input"),)


def _keras(
    model: keras.Model, xs: list[np.ndarray], refs: list[np.ndarray], path: Path
) -> tuple[float, str, dict[str, Any]]:
    model.save(str(path))
    loaded = keras.models.load_model(str(path), safe_mode=True, compile=False)
    check = (
        "keras.models.load_model(safe_mode=True), "
        f"output vs the model's at batch {_batches_text(xs)}"
    )
    return compare([(r, _run_keras(loaded, x)) for r, x in zip(refs, xs)], check), check, {}


def _savedmodel(
    model: keras.Model, xs: list[np.ndarray], refs: list[np.ndarray], path: Path
) -> tuple[float, str, dict[str, Any]]:
    # Written beside the target and moved into place, so a failed export leaves no half folder.
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        model.export(str(tmp), format="tf_saved_model", verbose=False)
        match_umask(tmp)
        remove(path)
        tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    loaded = tf.saved_model.load(str(path))  # keep a reference: its variables die with it
    outs = [loaded.serve(tf.constant(x)).numpy() for x in xs]
    check = f"tf.saved_model.load(...).serve, output vs the model's at batch {_batches_text(xs)}"
    return compare(list(zip(refs, outs)), check), check, {"endpoint": "serve"}


def _tflite(
    model: keras.Model, xs: list[np.ndarray], refs: list[np.ndarray], path: Path
) -> tuple[float, str, dict[str, Any]]:
    """Built-in TFLite ops only, so the file runs in any TFLite runtime.

    Keras 3 runs GRU and SimpleRNN (and LSTM where it is not fused) as a TensorFlow while-loop
    over tensor lists, which TFLite's built-in ops cannot express; such a model is converted
    from a copy whose recurrent layers are unrolled over the (fixed) number of time steps:
    the same weights and arithmetic, one cell per step."""
    note = None
    try:
        blob = _convert_tflite(model)
    except Exception as exc:
        if not _recurrent_layers(model):
            raise
        print(
            f"TFLite conversion as written failed, retrying unrolled: {one_line(exc)}",
            file=sys.stderr,
        )
        blob = _convert_tflite(_unrolled_copy(model))
        steps = model.inputs[0].shape[1]
        note = (
            f"converted with the recurrent layers unrolled over {steps} time steps: "
            "TFLite's built-in "
            "ops cannot express Keras' recurrent loop with a dynamic batch"
        )
    path.write_bytes(blob)
    outs = [_run_tflite(path, x) for x in xs]
    check = (
        f"TFLite interpreter vs the model at batch {_batches_text(xs)} (input resized per batch)"
    )
    if note:
        check += "; recurrent layers unrolled"
    extra = {"note": note} if note else {}
    return compare(list(zip(refs, outs)), check), check, extra


def _recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]


def _unrolled_copy(model: keras.Model) -> keras.Model:
    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if isinstance(layer, keras.layers.RNN):
            config["unroll"] = True
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _convert_tflite(model: keras.Model) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def _run_tflite(path: Path, x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # tf.lite.Interpreter announces its move to ai-edge-litert
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=1)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], list(x.shape), strict=False)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x.astype(inp["dtype"], copy=False))
    interpreter.invoke()
    return np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


def _onnx(
    model: keras.Model, xs: list[np.ndarray], refs: list[np.ndarray], path: Path
) -> tuple[float, str, dict[str, Any]]:
    """tf2onnx on a tf.function of the model (``from_keras`` fails on Keras 3 models), with
    Keras' own ``model.export(format='onnx')`` as the fallback."""
    import tf2onnx

    spec = _signature(model)
    note = None
    try:
        fn = tf.function(lambda x: model(x, training=False), input_signature=spec)
        with _tf2onnx_quiet():
            tf2onnx.convert.from_function(
                fn,
                input_signature=spec,
                opset=ONNX_OPSET,
                output_path=str(path),
                custom_op_handlers={"Erfc": (_erfc_to_onnx, [])},
            )
        exporter = "tf2onnx.convert.from_function"
        diff, check, opset = _check_onnx(path, xs, refs, exporter)
    except Exception as exc:
        first = one_line(exc)
        note = f"tf2onnx.convert.from_function failed ({first}); used model.export(format='onnx')"
        remove(path)
        try:
            with _tf2onnx_quiet():
                model.export(str(path), format="onnx", verbose=False)
            exporter = "keras model.export"
            diff, check, opset = _check_onnx(path, xs, refs, exporter)
        except Exception as second:
            raise RuntimeError(
                f"tf2onnx.convert.from_function: {first}; "
                f"model.export(format='onnx'): {one_line(second)}"
            ) from second
    extra: dict[str, Any] = {"exporter": exporter, "opset": opset}
    if note:
        extra["note"] = note
    return diff, check, extra


def _erfc_to_onnx(ctx: Any, node: Any, name: str, args: list[Any]) -> Any:
    """erfc(x) as 1 - erf(x): ONNX has Erf but no Erfc, which tf.nn.gelu (Keras' exact gelu)
    uses. A tf2onnx custom-op handler: (graph, node, name, args), all untyped there."""
    from tf2onnx import utils

    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
    erf = ctx.make_node("Erf", [node.input[0]])
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype=dtype))
    node.type = "Sub"
    ctx.replace_inputs(node, [one.output[0], erf.output[0]])
    return node


def _check_onnx(
    path: Path, xs: list[np.ndarray], refs: list[np.ndarray], exporter: str
) -> tuple[float, str, int | None]:
    opset = onnx_opset(path)
    check = (
        f"onnxruntime vs Keras at batch {_batches_text(xs)} "
        f"({exporter}, opset {opset}, dynamic batch)"
    )
    return compare([(r, run_onnx(path, x)) for r, x in zip(refs, xs)], check), check, opset


@contextlib.contextmanager
def _tf2onnx_quiet() -> Iterator[None]:
    """tf2onnx logs every rewriter it runs at INFO level; keep warnings and errors only."""
    import logging

    log = logging.getLogger("tf2onnx")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)
