"""Export format names: parsing, the framework that writes each, file names (no framework)."""

from __future__ import annotations

import pytest

from engine.export.formats import (
    CODE_FILES,
    FILES,
    FORMATS,
    FRAMEWORK_FORMATS,
    formats_for,
    parse_formats,
)
from engine.spec.errors import SpecError


def test_names_and_files_follow_the_contract():
    assert FORMATS == (
        "safetensors",
        "pt2",
        "torchscript",
        "onnx",
        "keras",
        "savedmodel",
        "tflite",
        "code",
    )
    assert FILES == {
        ("torch", "safetensors"): "torch.safetensors",
        ("torch", "pt2"): "torch.pt2",
        ("torch", "torchscript"): "torch.torchscript.pt",
        ("torch", "onnx"): "torch.onnx",
        ("tensorflow", "keras"): "tensorflow.keras",
        ("tensorflow", "savedmodel"): "tensorflow_savedmodel/",
        ("tensorflow", "tflite"): "tensorflow.tflite",
        ("tensorflow", "onnx"): "tensorflow.onnx",
        ("keras-jax", "keras"): "keras-jax.keras",
        ("keras-torch", "keras"): "keras-torch.keras",
        ("keras-torch", "onnx"): "keras-torch.onnx",
    }
    assert CODE_FILES == {"torch": "model_torch.py", "tensorflow": "model_keras.py"}
    for framework, names in FRAMEWORK_FORMATS.items():
        assert all((framework, n) in FILES for n in names)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("onnx,keras", ["onnx", "keras"]),
        ("keras,onnx", ["onnx", "keras"]),  # canonical order, whatever the order given
        (" ONNX , code ,", ["onnx", "code"]),
        ("tflite,tflite", ["tflite"]),
        ("all", list(FORMATS)),
        ("code,all", list(FORMATS)),
        (["pt2", "savedmodel"], ["pt2", "savedmodel"]),
    ],
)
def test_parse_formats(text, expected):
    assert parse_formats(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("onxx", "did you mean 'onnx'"),
        ("onnx,savedmodle", "did you mean 'savedmodel'"),
        ("torchscrpt", "did you mean 'torchscript'"),
        ("h5", "known: safetensors"),
    ],
)
def test_unknown_format_is_a_spec_error_naming_the_closest(text, hint):
    with pytest.raises(SpecError) as info:
        parse_formats(text)
    message = str(info.value)
    assert "unknown export format" in message and hint in message
    assert "\n" not in message


def test_no_format_at_all_is_refused():
    with pytest.raises(SpecError, match="no export format given"):
        parse_formats(" , ")


def test_formats_for_picks_each_workers_share():
    assert formats_for("torch", ["all"]) == ["safetensors", "pt2", "torchscript", "onnx"]
    assert formats_for("tensorflow", ["all"]) == ["keras", "savedmodel", "tflite", "onnx"]
    assert formats_for("torch", ["onnx", "keras", "code"]) == ["onnx"]
    assert formats_for("tensorflow", ["onnx", "keras", "code"]) == ["keras", "onnx"]
    assert formats_for("tensorflow", ["safetensors"]) == []
    assert formats_for("torch", []) == []
    assert formats_for("torch", "onnx,pt2") == ["pt2", "onnx"]
