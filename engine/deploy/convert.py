"""The quantized variants' conversions, run in a child process only (engine.deploy.child
``quantize``): TensorFlow and ONNX Runtime's quantizer are imported here, never in the process
that calls the benchmark (engine.deploy.quantize names the files and starts this child)."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def quantize_main(argv: list[str]) -> int:
    """``quantize tflite|onnx SRC DST [SRC DST ...]``: writes each DST; answers one JSON line
    ``{"event": "quantized", "results": {DST: null or the reason it failed}}``."""
    from engine.deploy.child import answer_channel, one_line

    out = answer_channel()
    kind, paths = argv[0], argv[1:]
    convert = _tflite if kind == "tflite" else _onnx
    results: dict[str, str | None] = {}
    for src, dst in zip(paths[::2], paths[1::2]):
        try:
            convert(Path(src), Path(dst))
            results[dst] = None
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            results[dst] = f"quantization failed: {one_line(exc)}"
    out.write(json.dumps({"event": "quantized", "results": results}) + "\n")
    out.flush()
    return 0


def _tflite(src: Path, dst: Path) -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(src))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    blob = converter.convert()
    from engine.spec.project import write_atomic

    write_atomic(dst, blob)


def _onnx(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dst.with_name(f".{dst.name}.tmp")
    try:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
