"""The export commands end to end: `twintrain export` and `twintrain train --export`."""

import json

from engine.cli import main


def test_export_command_writes_every_format_and_the_manifest(tmp_path, capsys):
    out = tmp_path / "models"
    assert main(["export", "xor_mlp", "--out", str(out)]) == 0
    manifest = json.loads((out / "exports.json").read_text())
    names = {(e["framework"], e["format"]) for e in manifest["files"]}
    assert {("torch", f) for f in ("safetensors", "pt2", "torchscript", "onnx")} <= names
    assert {("tensorflow", f) for f in ("keras", "savedmodel", "tflite", "onnx")} <= names
    assert all(e["ok"] for e in manifest["files"]), [e for e in manifest["files"] if not e["ok"]]
    assert manifest["project"] == "xor-mlp"
    assert manifest["cross_check"]["ok"] is True and manifest["cross_check"]["max_abs_diff"] < 1e-4
    for name in (
        "torch.onnx",
        "tensorflow.onnx",
        "model_torch.py",
        "model_keras.py",
        "tensorflow_savedmodel",
    ):
        assert (out / name).exists()
    text = capsys.readouterr().out
    assert "cross-check torch.onnx vs tensorflow.onnx on 16 samples" in text and "(agree)" in text


def test_export_refuses_a_non_empty_folder_and_unknown_formats(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep")
    assert main(["export", "xor_mlp", "--out", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    assert main(["export", "xor_mlp", "--out", str(tmp_path / "new"), "--formats", "onxx"]) == 1
    assert "did you mean 'onnx'" in capsys.readouterr().err


def test_train_with_export_writes_trained_models(tmp_path):
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "xor_mlp",
                "--epochs",
                "1",
                "--out",
                str(out),
                "--quiet",
                "--export",
                "onnx,code",
            ]
        )
        == 0
    )
    manifest = json.loads((out / "models" / "exports.json").read_text())
    assert {(e["framework"], e["format"]) for e in manifest["files"]} == {
        ("torch", "onnx"),
        ("tensorflow", "onnx"),
        ("torch", "code"),
        ("tensorflow", "code"),
    }
    assert all(e["ok"] for e in manifest["files"])
    assert manifest["cross_check"]["ok"] is None  # trained separately: reported, not judged
    assert manifest["cross_check"]["max_abs_diff"] < 1e-3  # matched training stays close
    assert sorted(p.name for p in (out / "models").iterdir()) == [
        "exports.json",
        "model_keras.py",
        "model_torch.py",
        "tensorflow.onnx",
        "torch.onnx",
    ]
