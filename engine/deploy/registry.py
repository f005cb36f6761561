"""The one table of what the deployment benchmark runs: each format, the runtime that loads it
and the runner (``module:Class``) that does so in a child process.

Pure data: importing this imports no framework (the children import the runners).
"""

from __future__ import annotations

from dataclasses import dataclass

# The eager model in its own framework, built from the project and the run's weights: the
# baseline every file of that framework is compared with.
EAGER = "eager"
# The quantized variants (--quantized), written beside the float files.
TFLITE_INT8 = "tflite-int8"
ONNX_INT8 = "onnx-int8"
QUANTIZED: tuple[str, ...] = (TFLITE_INT8, ONNX_INT8)
# Every float ONNX file again in OpenVINO, where the optional ``openvino`` package is installed.
OPENVINO = "onnx-openvino"
OPTIONAL_PACKAGES = {OPENVINO: "openvino"}


@dataclass(frozen=True)
class Runner:
    """How one format is loaded and run.

    ``runtime``: what the table and deploy.json call it (``{keras}`` is replaced by the file's
    Keras backend, ``{framework}`` by the column's framework); ``runner``: ``module:Class`` in
    engine/deploy/runners (built in the child only); ``what``: a line for the docs; ``heavy``:
    its import is a large framework's (TensorFlow, Keras), so its child starts loading first.
    The eager baseline and Keras files are heavy or not by their Keras backend."""

    runtime: str
    runner: str
    what: str
    heavy: bool = False


RUNNERS: dict[str, Runner] = {
    EAGER: Runner(
        "{framework} eager",
        "engine.deploy.runners.eager:EagerRunner",
        "the trained model in its own framework, built from the project and the run's weights",
    ),
    "safetensors": Runner(
        "torch eager",
        "engine.deploy.runners.torch_files:SafetensorsRunner",
        "safetensors.torch.load_file into the eager PyTorch model built from the project",
    ),
    "pt2": Runner(
        "torch.export",
        "engine.deploy.runners.torch_files:Pt2Runner",
        "torch.export.load(...).module()",
    ),
    "torchscript": Runner(
        "torch.jit",
        "engine.deploy.runners.torch_files:TorchScriptRunner",
        "torch.jit.load",
    ),
    "onnx": Runner(
        "onnxruntime",
        "engine.deploy.runners.onnx_runtime:OnnxRunner",
        "an ONNX Runtime InferenceSession on the CPU",
    ),
    "keras": Runner(
        "keras ({keras})",
        "engine.deploy.runners.keras_files:KerasFileRunner",
        "keras.models.load_model under the Keras backend that saved it",
    ),
    "savedmodel": Runner(
        "tf.saved_model",
        "engine.deploy.runners.tf_files:SavedModelRunner",
        "tf.saved_model.load, its serving_default signature",
        heavy=True,
    ),
    "tflite": Runner(
        "tflite",
        "engine.deploy.runners.tflite:TFLiteRunner",
        "the TFLite interpreter (ai_edge_litert's where installed, else tf.lite.Interpreter)",
        heavy=True,
    ),
    TFLITE_INT8: Runner(
        "tflite",
        "engine.deploy.runners.tflite:TFLiteRunner",
        "dynamic-range int8 TFLite (TFLiteConverter from the SavedModel, Optimize.DEFAULT)",
        heavy=True,
    ),
    ONNX_INT8: Runner(
        "onnxruntime",
        "engine.deploy.runners.onnx_runtime:OnnxRunner",
        "onnxruntime.quantization.quantize_dynamic of the float ONNX file",
    ),
    OPENVINO: Runner(
        "openvino",
        "engine.deploy.runners.openvino:OpenVinoRunner",
        "the ONNX file compiled by OpenVINO for the CPU (optional: pip install openvino)",
    ),
}


def heavy(fmt: str, keras_backend: str | None) -> bool:
    """Whether a row's child imports TensorFlow or Keras (it starts loading first)."""
    return RUNNERS[fmt].heavy or (fmt in (EAGER, "keras") and keras_backend is not None)


def runtime_name(fmt: str, framework: str, keras_backend: str | None = None) -> str:
    """The runtime column of a row: 'onnxruntime', 'keras (jax)', 'torch eager'..."""
    return RUNNERS[fmt].runtime.format(framework=framework, keras=keras_backend or "tensorflow")
