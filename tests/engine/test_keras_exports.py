"""Exports of the Keras runtimes on JAX and on PyTorch (engine/export/keras_export.py), written
by their own workers and checked by reloading: `.keras` from both, ONNX from Keras on PyTorch,
and Keras on JAX's ONNX listed as not supported with the registry's reason."""

from __future__ import annotations

import json

import pytest

from engine.export.formats import FILES
from engine.runtimes import RUNTIMES, installed_runtimes
from tests.in_process_cli import twintrain

KERAS = ("keras-jax", "keras-torch")
pytestmark = [
    pytest.mark.slow,  # a worker per runtime, each importing its framework: about a minute each
    pytest.mark.timeout(900),  # a loaded machine needs it
    pytest.mark.skipif(
        not {"torch", *KERAS} <= set(installed_runtimes()), reason="needs torch, jax and keras"
    ),
]


def _by_file(doc: dict) -> dict:
    return {(e["framework"], e["format"]): e for e in doc["files"]}


def test_export_writes_and_verifies_the_keras_runtimes_files(tmp_path):
    out = tmp_path / "models"
    proc = twintrain(
        "export",
        "digits_cnn",
        "--frameworks",
        "torch,keras-jax,keras-torch",
        "--formats",
        "keras,onnx",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    doc = json.loads((out / "exports.json").read_text())
    assert doc["ok"] is True
    entries = _by_file(doc)
    for key in (("keras-jax", "keras"), ("keras-torch", "keras"), ("keras-torch", "onnx")):
        e = entries[key]
        assert e["ok"] is True and e["file"] == FILES[key], e
        assert (out / e["file"]).is_file() and e["max_abs_diff"] < 1e-4, e
    assert "load_model(safe_mode=True)" in entries[("keras-jax", "keras")]["check"]
    assert entries[("keras-torch", "onnx")]["exporter"] == "keras model.export"
    jax_onnx = entries[("keras-jax", "onnx")]
    assert jax_onnx["supported"] is False and jax_onnx["ok"] is None and jax_onnx["file"] is None
    assert jax_onnx["reason"] == RUNTIMES["keras-jax"].no_export["onnx"]
    assert not (out / "keras-jax.onnx").exists()
    # PyTorch's ONNX and Keras-on-PyTorch's hold the same initial weights: they must agree
    cross = doc["cross_check"]
    assert cross["files"] == ["torch.onnx", "keras-torch.onnx"] and cross["ok"] is True
    assert cross["max_abs_diff"] < 1e-4
    assert "not supported: " in proc.stdout and "keras-torch.onnx" in proc.stdout


def test_train_export_writes_the_trained_keras_models(tmp_path):
    out = tmp_path / "run"
    proc = twintrain(
        "train",
        "xor_mlp",
        "--frameworks",
        ",".join(KERAS),
        "--epochs",
        "1",
        "--export",
        "keras,onnx",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    doc = json.loads((out / "models" / "exports.json").read_text())
    entries = _by_file(doc)
    assert sorted(entries) == sorted(
        [
            ("keras-jax", "keras"),
            ("keras-jax", "onnx"),
            ("keras-torch", "keras"),
            ("keras-torch", "onnx"),
        ]
    )
    assert all(e["ok"] for k, e in entries.items() if k != ("keras-jax", "onnx"))
    assert entries[("keras-jax", "onnx")]["supported"] is False
    assert doc["ok"] is True and doc["cross_check"] is None  # one ONNX file: nothing to compare

    # the run's trained weights, exported again: its own runtimes by default, the others skipped
    again = tmp_path / "again"
    proc = twintrain(
        "export", "xor_mlp", "--weights", str(out), "--formats", "keras", "--out", str(again)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    doc = json.loads((again / "exports.json").read_text())
    assert [(e["framework"], e["ok"]) for e in doc["files"]] == [(f, True) for f in KERAS]
    assert sorted(doc["skipped"]) == ["tensorflow"]  # torch writes no .keras: not even asked
    assert "max diff" in proc.stdout
