"""Every malformed project gets exit 1 and one line naming the file, layer and field."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.spec import SpecError, read_project, save_project
from engine.spec.project import write_atomic
from tests.conftest import PRESETS, ROOT

BASE = json.loads((ROOT / "presets" / "digits_cnn.twintrain.json").read_text())


def mutate(fn):
    doc = copy.deepcopy(BASE)
    fn(doc)
    return doc


def layer(doc, lid):
    return next(item for item in doc["model"]["layers"] if item["id"] == lid)


def set_param(lid, key, value):
    return lambda d: layer(d, lid).__setitem__(key, value)


# (case id, document or raw text, substrings the one-line message must contain)
CASES = [
    ("truncated", json.dumps(BASE)[:200], ["not valid JSON", "line"]),
    ("not-an-object", "[1, 2]", ["JSON object"]),
    (
        "nan",
        json.dumps(BASE).replace('"learning_rate": 0.001', '"learning_rate": NaN'),
        ["NaN", "not allowed"],
    ),
    (
        "format",
        mutate(lambda d: d.__setitem__("format", "twintrain/9")),
        ["format", "twintrain/9", "twintrain/1"],
    ),
    (
        "unknown-type",
        mutate(set_param("conv1", "type", "Conv2d")),
        ["layer 'conv1'", "field 'type'", "did you mean 'Conv2D'"],
    ),
    (
        "unknown-type-far",
        mutate(set_param("conv1", "type", "Transformer")),
        ["layer 'conv1'", "unknown layer type 'Transformer'"],
    ),
    (
        "unknown-param",
        mutate(set_param("fc1", "unit", 32)),
        ["layer 'fc1'", "field 'unit'", "did you mean 'units'"],
    ),
    (
        "wrong-type",
        mutate(set_param("fc1", "units", "32")),
        ["layer 'fc1'", "field 'units'", "expected an integer"],
    ),
    (
        "float-for-int",
        mutate(set_param("fc1", "units", 32.0)),
        ["layer 'fc1'", "field 'units'", "integer"],
    ),
    ("bool-for-int", mutate(set_param("fc1", "units", True)), ["layer 'fc1'", "field 'units'"]),
    ("zero-size", mutate(set_param("fc1", "units", 0)), ["layer 'fc1'", "field 'units'", ">= 1"]),
    (
        "negative-size",
        mutate(set_param("conv1", "kernel_size", -3)),
        ["layer 'conv1'", "field 'kernel_size'", ">= 1"],
    ),
    (
        "bad-choice",
        mutate(set_param("conv1", "padding", "full")),
        ["layer 'conv1'", "field 'padding'", "valid, same"],
    ),
    (
        "bad-activation",
        mutate(set_param("conv1", "activation", "rleu")),
        ["layer 'conv1'", "field 'activation'", "did you mean 'relu'"],
    ),
    (
        "kernel-too-large",
        mutate(lambda d: layer(d, "conv2").update(kernel_size=7, padding="valid")),
        ["layer 'conv2'", "field 'kernel_size'", "larger than its input"],
    ),
    (
        "dangling",
        mutate(set_param("fc1", "inputs", ["flatten"])),
        ["layer 'fc1'", "field 'inputs'", "'flatten' names no layer"],
    ),
    (
        "cycle",
        mutate(lambda d: set_param("conv1", "inputs", ["flat"])(d)),
        ["field 'inputs'", "cycle"],
    ),
    ("duplicate", mutate(set_param("fc1", "id", "conv1")), ["layer 'conv1'", "duplicate id"]),
    (
        "bad-id",
        mutate(set_param("fc1", "id", "fc-1")),
        ["field 'model.layers[4].id'", "must match"],
    ),
    (
        "input-shape",
        mutate(lambda d: d["model"]["input"].__setitem__("shape", [8, 8, 3])),
        ["field 'model.input.shape'", "[8, 8, 3]", "[8, 8, 1]", "digits"],
    ),
    (
        "bad-input-shape",
        mutate(lambda d: d["model"]["input"].__setitem__("shape", [8, 0, 1])),
        ["model.input.shape", "positive"],
    ),
    (
        "unknown-dataset",
        mutate(lambda d: d["training"]["dataset"].__setitem__("name", "mnist")),
        ["training.dataset.name", "unknown dataset"],
    ),
    (
        "unknown-training-key",
        mutate(lambda d: d["training"].__setitem__("epoch", 3)),
        ["field 'training.epoch'", "did you mean 'epochs'"],
    ),
    (
        "bad-lr",
        mutate(lambda d: d["training"]["optimizer"].__setitem__("learning_rate", -1)),
        ["training.optimizer.learning_rate", "> 0"],
    ),
    (
        "wrong-classes",
        mutate(set_param("out", "units", 5)),
        ["output 'out'", "[5]", "[10]", "training.loss"],
    ),
    (
        "missing-required",
        mutate(lambda d: layer(d, "fc1").pop("units")),
        ["layer 'fc1'", "field 'units'", "required"],
    ),
    (
        "output-missing",
        mutate(lambda d: d["model"].__setitem__("output", "nope")),
        ["model.output", "names no layer"],
    ),
]


def _add_mismatch(d):
    d["model"]["layers"].insert(5, {"id": "sum", "type": "Add", "inputs": ["fc1", "flat"]})
    layer(d, "out")["inputs"] = ["sum"]


CASES.append(
    (
        "add-mismatch",
        mutate(_add_mismatch),
        ["layer 'sum'", "Add needs inputs of one shape", "[32]", "[256]"],
    )
)


def write(tmp_path, name, content):
    path = tmp_path / f"{name}.twintrain.json"
    path.write_text(
        content if isinstance(content, str) else json.dumps(content, indent=2), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("name,content,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused_with_a_one_line_message(tmp_path, capsys, name, content, expected):
    path = write(tmp_path, name, content)
    before = path.read_bytes(), path.stat().st_mtime_ns
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"twintrain: {path}")
    for part in expected:
        assert part in err, f"{part!r} not in {err!r}"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before  # nothing on disk changed
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_cli_process_exits_1_without_traceback(tmp_path):
    path = write(tmp_path, "bad", mutate(set_param("fc1", "units", -4)))
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "layer 'fc1', field 'units'" in proc.stderr


def test_missing_file_and_unknown_preset(capsys):
    assert main(["check", "no_such_thing"]) == 1
    assert "no preset of that name" in capsys.readouterr().err
    assert main(["check", "digits_cn"]) == 1
    assert "did you mean 'digits_cnn'" in capsys.readouterr().err


def test_wrong_encoding_and_huge_numbers(tmp_path, capsys):
    path = tmp_path / "latin.twintrain.json"
    path.write_bytes(json.dumps(BASE).replace("LeNet", "L\u00e9Net").encode("latin-1"))
    assert main(["check", str(path)]) == 1
    assert "not UTF-8" in capsys.readouterr().err
    path = write(tmp_path, "huge", mutate(set_param("fc1", "units", 10**400)))
    assert main(["check", str(path)]) == 1
    assert "layer 'fc1', field 'units'" in capsys.readouterr().err


def test_deep_nesting_is_a_clean_error(tmp_path, capsys):
    path = write(
        tmp_path, "deep", '{"format": "twintrain/1", "x-a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    assert main(["check", str(path)]) == 1
    assert "nested too deeply" in capsys.readouterr().err


def test_layout_and_x_keys_are_kept(tmp_path):
    doc = mutate(lambda d: d.update({"layout": {"conv1": [0, 0]}, "x-note": {"k": [1, 2]}}))
    layer(doc, "fc1")["x-colour"] = "red"
    doc["training"]["x-run"] = 1
    doc["model"]["input"]["x-units"] = "pixels"
    path = write(tmp_path, "keep", doc)
    out = tmp_path / "saved.twintrain.json"
    save_project(read_project(path), out)
    assert json.loads(out.read_text()) == doc


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "p.twintrain.json"
    target.write_text("old contents")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new contents")
    assert target.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["p.twintrain.json"]


def test_every_error_is_a_spec_error_with_fields():
    with pytest.raises(SpecError) as info:
        read_project(PRESETS[0].parent / "missing.twintrain.json")
    assert "cannot read" in str(info.value)


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("../../outside", "outside"),
        ("a/b\\c", "a_b_c"),
        ("..", "run"),
        ("", "run"),
        ("Mein Netz: ü", "Mein_Netz"),
        ("x" * 500, "x" * 60),
    ],
)
def test_a_project_name_never_puts_the_run_folder_outside_the_runs_folder(tmp_path, name, stem):
    from engine.run_folder import run_stem

    assert run_stem(name) == stem
    runs = tmp_path / "runs"
    assert (runs / f"{run_stem(name)}-20261203").resolve().parent == runs.resolve()


def test_a_saved_project_names_its_runs_after_its_file():
    from engine.run_folder import run_stem

    assert run_stem("ignored", Path("/somewhere/digits_mlp.twintrain.json")) == "digits_mlp"
