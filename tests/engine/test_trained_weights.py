"""A run keeps its trained weights (weights/<framework>.npz) and `twintrain export --weights RUN`
builds the models from them instead of the initial weights."""

import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from engine.cli import main
from engine.presets import load_project_arg
from engine.spec import validate
from engine.trained_weights import available, load_weights, resolve_dir, save_weights
from engine.weights import init_weights


def test_save_and_load_round_trip(tmp_path):
    weights = {
        "h1": {
            "kernel": np.arange(6, dtype=np.float32).reshape(2, 3),
            "bias": np.ones(3, np.float32),
        },
        "bn/x": {"gamma": np.zeros(2, np.float32)},
    }
    path = save_weights(weights, tmp_path / "weights" / "torch.npz")
    back = load_weights(path)
    assert back.keys() == weights.keys()
    np.testing.assert_array_equal(back["h1"]["kernel"], weights["h1"]["kernel"])
    assert available(tmp_path) == ["torch"] and resolve_dir(tmp_path) == tmp_path / "weights"
    assert not list((tmp_path / "weights").glob(".*"))  # no temporary file left


def test_run_keeps_trained_weights_and_export_uses_them(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "xor_mlp", "--epochs", "2", "--out", str(run), "--quiet"]) == 0
    assert available(run) == ["torch", "tensorflow"]
    project = load_project_arg("xor_mlp")
    initial = init_weights(project, validate(project), 0)
    trained = {fw: load_weights(run / "weights" / f"{fw}.npz") for fw in ("torch", "tensorflow")}
    for fw in trained:
        assert trained[fw].keys() == initial.keys()
        assert not np.allclose(trained[fw]["h1"]["kernel"], initial["h1"]["kernel"])  # it learned
    # Matched training: both frameworks end close to each other.
    assert np.allclose(
        trained["torch"]["h1"]["kernel"], trained["tensorflow"]["h1"]["kernel"], atol=1e-3
    )

    out = tmp_path / "trained_models"
    assert (
        main(
            [
                "export",
                "xor_mlp",
                "--out",
                str(out),
                "--formats",
                "safetensors,onnx",
                "--weights",
                str(run),
            ]
        )
        == 0
    )
    state = load_file(str(out / "torch.safetensors"))
    kernel = next(v for k, v in state.items() if k.endswith("weight") and v.shape == (16, 2))
    np.testing.assert_allclose(kernel.T, trained["torch"]["h1"]["kernel"], atol=1e-6)
    manifest = json.loads((out / "exports.json").read_text())
    assert all(e["ok"] for e in manifest["files"])
    assert manifest["cross_check"]["ok"] is None  # trained separately: reported, not judged

    untrained = tmp_path / "untrained"
    assert main(["export", "xor_mlp", "--out", str(untrained), "--formats", "safetensors"]) == 0
    state0 = load_file(str(untrained / "torch.safetensors"))
    kernel0 = next(v for k, v in state0.items() if k.endswith("weight") and v.shape == (16, 2))
    np.testing.assert_allclose(kernel0.T, initial["h1"]["kernel"], atol=1e-6)


@pytest.mark.parametrize("where", ["empty", "missing"])
def test_export_weights_refuses_a_folder_without_weights(tmp_path, capsys, where):
    folder = tmp_path / "run"
    if where == "empty":
        folder.mkdir()
    assert (
        main(["export", "xor_mlp", "--out", str(tmp_path / "out"), "--weights", str(folder)]) == 2
    )
    assert "no trained weights" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
