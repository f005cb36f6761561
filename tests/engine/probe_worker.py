"""One column's layer probe in its own process, for tests/engine/test_divergence.py:
``python probe_worker.py COLUMN PRESET FOLDER [--wrong-bias TYPE] [--isolate REFERENCE.npz]``.

``--wrong-bias TYPE`` loads PyTorch's weights of every TYPE layer with 0.1 added to its bias: a
deliberately wrong weight conversion, which the comparison must flag as unexplained at the first
such layer.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.backends import load_backend  # noqa: E402
from engine.data.load import load_data  # noqa: E402
from engine.layer_probe import probe_job  # noqa: E402
from engine.presets import load_project_arg  # noqa: E402
from engine.runtimes import split_column  # noqa: E402
from engine.spec import validate  # noqa: E402
from engine.spec.training import resolve_training  # noqa: E402
from engine.weights import init_weights  # noqa: E402


def _break_bias(layer_type: str) -> None:
    from engine.backends import torch_adapters

    adapter = torch_adapters.TORCH[layer_type]
    convert = adapter.to_torch
    assert convert is not None

    def wrong(arrays):
        out = convert(arrays)
        out["bias"] = out["bias"] + 0.1  # matched init starts biases at zero
        return out

    torch_adapters.TORCH[layer_type] = dataclasses.replace(adapter, to_torch=wrong)


def main() -> None:
    column, preset, folder = sys.argv[1:4]
    if "--wrong-bias" in sys.argv:
        _break_bias(sys.argv[sys.argv.index("--wrong-bias") + 1])
    project = load_project_arg(preset)
    graph = validate(project)
    training = resolve_training(project.training, graph.dataset.task if graph.dataset else None)
    backend = load_backend(column)(project, threads=1, mode=split_column(column)[1])
    backend.build(init_weights(project, graph, training["seed"]))
    isolate = sys.argv[sys.argv.index("--isolate") + 1] if "--isolate" in sys.argv else None
    job = {"framework": column, "probe": {"step": 0, "dir": folder, "isolate": isolate}}
    probe_job(job, backend, load_data(project), training)


if __name__ == "__main__":
    main()
