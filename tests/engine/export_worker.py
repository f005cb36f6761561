"""One framework's side of the export tests: ``python export_worker.py MODE FRAMEWORK CASES OUT``.

Runs in its own process (torch and TensorFlow never share one) and pays the framework's import
once for every case. Nothing is printed to stdout: the test checks that it stays empty, i.e.
that no exporter leaks output into a worker's event stream.

- mode ``export``: every format of FRAMEWORK for every case into OUT/<case>/, entries to
  OUT/<framework>.json; then two forced failures (a format refusing, a broken backend).
- mode ``code``: loads each case's generated script from OUT/<case>/ as a module and compares
  its data with TwinTrain's and its network with the backend's on the same weights, and runs
  every case's main() for one epoch (the framework imported once for all of them, where a
  process per script would import it once per case); results to OUT/<framework>-code.json.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from export_cases import SUFFIX, case_key  # noqa: E402

from engine.backends import load_backend  # noqa: E402
from engine.data.load import load_data  # noqa: E402
from engine.spec import validate  # noqa: E402
from engine.spec.project import read_project  # noqa: E402
from engine.spec.training import resolve_training  # noqa: E402
from engine.weights import init_weights  # noqa: E402


def sample_of(data) -> np.ndarray:
    """The batch the worker wiring uses (engine.worker._export)."""
    return data.x_val[:16] if len(data.x_val) else data.x_train[:16]


def built(framework: str, path: Path):
    project = read_project(path)
    graph = validate(project)
    training = resolve_training(project.training, graph.dataset.task if graph.dataset else None)
    backend = load_backend(framework)(project, threads=1)
    backend.build(init_weights(project, graph, training["seed"]))
    return project, backend, load_data(project)


def exporter(framework: str):
    if framework == "torch":
        from engine.export.torch_export import export_torch

        return export_torch
    from engine.export.tf_export import export_tf

    return export_tf


def export_mode(framework: str, cases: list[Path], out: Path) -> None:
    export = exporter(framework)
    results = {}
    for path in cases:
        _, backend, data = built(framework, path)
        results[case_key(path)] = export(backend, ["all"], out / case_key(path), sample_of(data))
    results["_faults"] = faults(framework, cases, out / "_faults")
    (out / f"{framework}.json").write_text(json.dumps(results, indent=1))


def faults(framework: str, cases: list[Path], out: Path) -> dict:
    """A format that refuses the model, and a backend with no model: entries, never exceptions."""
    export = exporter(framework)
    path = next(p for p in cases if case_key(p) == "digits_cnn")
    _, backend, data = built(framework, path)
    if framework == "torch":
        import torch

        target, name = torch.onnx, "export"
        message = "exporter refused op aten::foo"
    else:
        import tensorflow as tf

        target, name = tf.lite.TFLiteConverter, "from_keras_model"
        message = "TFLite converter refused op FooOp"
    original = getattr(target, name)

    def refuse(*args, **kwargs):
        raise RuntimeError(message)

    setattr(target, name, refuse)
    try:
        refused = export(
            backend, ["onnx", "tflite", "pt2", "keras"], out / "refused", sample_of(data)
        )
    finally:
        setattr(target, name, original)
    backend.model = None
    broken = export(backend, ["all"], out / "broken", sample_of(data))
    unknown = export(backend, ["onnx", "nonsense"], out / "unknown", sample_of(data))
    return {"refused": refused, "broken": broken, "unknown": unknown}


def load_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_mode(framework: str, cases: list[Path], out: Path) -> None:
    results: dict = {}
    for path in cases:
        key = case_key(path)
        try:
            results[key] = code_case(framework, path, out / key)
        except Exception:
            results[key] = {"error": traceback.format_exc()}
    if framework == "torch":
        from torch import nn

        from engine.export.code_common import MODULE_ATTRIBUTES

        public = {n for n in set(dir(nn.Module)) | set(vars(nn.Module())) if not n.startswith("_")}
        results["_missing_module_attributes"] = sorted(public - MODULE_ATTRIBUTES)
    (out / f"{framework}-code.json").write_text(json.dumps(results, indent=1))


def code_case(framework: str, path: Path, folder: Path) -> dict:
    project, backend, data = built(framework, path)
    script = folder / ("model_torch.py" if framework == "torch" else "model_keras.py")
    module = load_script(script)
    x_train, y_train, x_val, y_val = module.load_data()
    same_data = all(
        a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        for a, b in (
            (x_train, data.x_train),
            (x_val, data.x_val),
            (y_train, backend.plan.target(data.y_train)),
            (y_val, backend.plan.target(data.y_val)),
        )
    )
    x = sample_of(data)
    reference = backend.predict(x)
    if framework == "torch":
        output, info = torch_parity(module, backend, project, x)
    else:
        output, info = keras_parity(module, backend, x)
    result = {
        "same_data": bool(same_data),
        "parity_diff": float(np.max(np.abs(output - reference))),
        "output_shape": list(output.shape),
        "reference_shape": list(reference.shape),
        **info,
    }
    result["printed"] = run_main(module)
    return result


def run_main(module) -> list[str]:
    """The script's main() for one epoch, in this process; what it printed."""
    import contextlib
    import io

    argv, sys.argv = sys.argv, [module.__file__, "--epochs", "1"]
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            module.main()
    finally:
        sys.argv = argv
    return printed.getvalue().splitlines()


def torch_parity(module, backend, project, x):
    """The generated Net with the backend's weights, matched by layer id."""
    import torch

    from engine.export.code_common import settings
    from engine.export.code_torch import attribute_names

    names = attribute_names(settings(project))
    net = module.Net()
    source = backend.model.state_dict()
    state = {}
    for key, value in source.items():
        _, lid, rest = key.split(".", 2)
        state[f"{names[lid]}.{rest}"] = value
    missing, unexpected = net.load_state_dict(state, strict=False)
    net.eval()
    with torch.no_grad():
        output = net(torch.from_numpy(x)).numpy()
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    return output, {"missing": missing, "unexpected": list(unexpected), "loaded": len(state)}


def keras_parity(module, backend, x):
    """The generated model with the backend's weights, matched by layer name (= layer id)."""
    model = module.build_model()
    loaded = 0
    for layer in backend.model.layers:
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())
            loaded += 1
    output = np.asarray(model(x, training=False))
    return output, {"missing": [], "unexpected": [], "loaded": loaded}


def main(argv: list[str]) -> int:
    mode, framework, cases_dir, out = argv[0], argv[1], Path(argv[2]), Path(argv[3])
    cases = sorted(cases_dir.glob(f"*{SUFFIX}"))
    {"export": export_mode, "code": code_mode}[mode](framework, cases, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
