"""The quantized variants (``--quantized``): a dynamic-range int8 TFLite file from each
SavedModel (TFLiteConverter with ``optimizations=[tf.lite.Optimize.DEFAULT]``) and a dynamically
quantized ONNX file from each float ONNX file (``onnxruntime.quantization.quantize_dynamic``,
int8 weights), written beside the float files as ``<name>.int8-dynamic.tflite`` /
``<name>.int8-dynamic.onnx``. The conversions run in child processes; the
parent (``quantize``, here) only names the files and collects the results; the conversions
are engine.deploy.convert's, imported in the child alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.deploy.registry import ONNX_INT8, TFLITE_INT8

SUFFIX = ".int8-dynamic"
QUANTIZE_TIMEOUT_S = 600.0


def quantized_name(item_label: str, fmt: str) -> str:
    """'tensorflow_savedmodel' -> 'tensorflow.int8-dynamic.tflite', 'torch.onnx' ->
    'torch.int8-dynamic.onnx'."""
    if fmt == TFLITE_INT8:
        return item_label.removesuffix("_savedmodel") + SUFFIX + ".tflite"
    return item_label.removesuffix(".onnx") + SUFFIX + ".onnx"


def quantize(
    items: list[Any],
    folder: Path,
    threads: int,
    cancelled: Callable[[], bool] | None = None,
) -> list[Any]:
    """The quantized Items made from ``items`` (engine.deploy.folder.Item): one child converts
    the SavedModels, one quantizes the ONNX files; a conversion that fails is an Item with the
    reason as its error."""
    from engine.deploy.children import Child, ChildFailed, child_command, child_env
    from engine.deploy.folder import Item

    jobs: dict[str, list[tuple[Any, Path]]] = {TFLITE_INT8: [], ONNX_INT8: []}
    for item in items:
        if item.error or item.path is None:
            continue
        fmt = {"savedmodel": TFLITE_INT8, "onnx": ONNX_INT8}.get(item.format)
        if fmt is not None:
            jobs[fmt].append((item, folder / quantized_name(item.label, fmt)))
    made: list[Any] = []
    for fmt, pairs in jobs.items():
        if not pairs:
            continue
        kind = "tflite" if fmt == TFLITE_INT8 else "onnx"
        args = [a for item, dst in pairs for a in (str(item.path), str(dst))]
        results: dict[str, str | None] = {}
        child = Child(child_command("quantize", kind, *args), child_env(threads))
        try:
            answer = child.wait(QUANTIZE_TIMEOUT_S, cancelled)
            results = dict(answer.get("results") or {})
        except ChildFailed as exc:
            results = {str(dst): f"quantization failed: {exc}" for _, dst in pairs}
        finally:
            child.close()
        for item, dst in pairs:
            reason = results.get(str(dst), "quantization gave no answer")
            made.append(
                Item(
                    dst.name,
                    fmt,
                    item.framework,
                    dst,
                    item.keras_backend,
                    source=item.label,
                    error=reason,
                )
            )
    return made
