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


def test_run_keeps_trained_weights_and_export_uses_them(xor_run, tmp_path, capsys):
    run = xor_run  # `twintrain train xor_mlp --epochs 2 --quiet`, shared (tests/engine/conftest.py)
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


def test_a_run_of_one_framework_exports_its_formats_and_skips_the_others(tmp_path, capsys):
    """A run of PyTorch alone kept no TensorFlow weights: TensorFlow's formats are skipped and
    said so (not listed as failed); asking only for them is refused before anything is made."""
    project = load_project_arg("xor_mlp")
    run = tmp_path / "run"
    save_weights(init_weights(project, validate(project), 3), run / "weights" / "torch.npz")
    out = tmp_path / "models"
    args = ["export", "xor_mlp", "--out", str(out), "--weights", str(run)]
    assert main([*args, "--formats", "safetensors,onnx,keras"]) == 0
    printed = capsys.readouterr().out
    assert "tensorflow  skipped: the run did not train TensorFlow" in printed, printed
    assert "FAILED" not in printed
    manifest = json.loads((out / "exports.json").read_text())
    assert manifest["ok"] is True
    assert {e["framework"] for e in manifest["files"]} == {"torch"}
    assert "onnx, keras not written" in manifest["skipped"]["tensorflow"]
    assert manifest["cross_check"] is None  # one ONNX file: nothing to compare it with
    assert (out / "torch.onnx").is_file() and not (out / "tensorflow.keras").exists()

    refused = tmp_path / "refused"
    assert main(["export", "xor_mlp", "--out", str(refused), "--weights", str(run),
                 "--formats", "keras,tflite"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "only for PyTorch" in err and "keras, tflite need trained TensorFlow" in err, err
    assert not refused.exists()
