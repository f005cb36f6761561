"""Model exports on every preset (and the extra cases of export_cases): every format written
and verified, ONNX within 1e-4 of its framework, and PyTorch's ONNX within 1e-4 of
TensorFlow's when both start from the matched initial weights.

Each framework exports in its own subprocess (export_worker.py), all cases in one go. The
ONNX cross-check runs here, in ONNX Runtime only, since this process imports no framework.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from export_cases import PRESETS, case_key, write_cases

from engine.data.load import load_data
from engine.export.formats import FILES, FRAMEWORK_FORMATS, MANIFEST
from engine.export.manifest import cross_check, write_manifest
from engine.spec.graph import infer
from engine.spec.project import read_project
from engine.weights import init_weights

pytestmark = pytest.mark.slow  # one export subprocess per framework, every case: about 35 s
HERE = Path(__file__).resolve().parent
FRAMEWORKS = ("torch", "tensorflow")
TOL = 1e-4
PRESET_KEYS = [case_key(p) for p in PRESETS]


def run_workers(mode: str, cases: Path, out: Path) -> dict[str, subprocess.CompletedProcess]:
    """Both frameworks' workers at once (two processes, never one with both frameworks)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="1")
    procs = {
        fw: subprocess.Popen(
            [sys.executable, str(HERE / "export_worker.py"), mode, fw, str(cases), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for fw in FRAMEWORKS
    }
    done = {}
    for fw, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        done[fw] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        assert proc.returncode == 0, f"{fw} {mode} worker failed:\n{stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    cases = write_cases(root / "cases")
    out = root / "out"
    out.mkdir()
    procs = run_workers("export", root / "cases", out)
    results = {fw: json.loads((out / f"{fw}.json").read_text()) for fw in FRAMEWORKS}
    return {
        "cases": {case_key(p): p for p in cases},
        "out": out,
        "results": results,
        "procs": procs,
    }


def sample_for(path: Path) -> np.ndarray:
    """The batch the workers were given (the worker wiring's choice)."""
    data = load_data(read_project(path))
    return data.x_val[:16] if len(data.x_val) else data.x_train[:16]


def entries(exported, case: str, framework: str) -> dict[str, dict]:
    return {e["format"]: e for e in exported["results"][framework][case]}


def all_cases(exported) -> list[str]:
    return sorted(exported["cases"])


def test_presets_are_all_covered(exported):
    assert set(PRESET_KEYS) <= set(exported["cases"]) and len(PRESET_KEYS) >= 12


def test_every_format_written_and_verified(exported):
    for case in all_cases(exported):
        for fw in FRAMEWORKS:
            got = entries(exported, case, fw)
            assert list(got) == list(FRAMEWORK_FORMATS[fw]), (case, fw)
            for fmt, e in got.items():
                where = f"{case} {fw} {fmt}: {e.get('reason')}"
                assert e["ok"] is True and e["reason"] is None, where
                assert e["framework"] == fw and e["file"] == FILES[(fw, fmt)], where
                path = exported["out"] / case / e["file"]
                assert path.exists(), where
                size = (
                    sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                    if path.is_dir()
                    else path.stat().st_size
                )
                assert e["bytes"] == size > 0, where
                assert isinstance(e["check"], str) and e["check"], where
                assert e["max_abs_diff"] is not None and 0.0 <= e["max_abs_diff"] < TOL, where


def test_checks_use_two_batch_sizes_and_safe_loaders(exported):
    """A batch axis frozen to the sample's size, or an unsafe loader, would not pass unnoticed."""
    for case in all_cases(exported):
        n = len(sample_for(exported["cases"][case]))
        small = min(3, n - 1)
        for fw in FRAMEWORKS:
            for fmt, e in entries(exported, case, fw).items():
                if fmt != "safetensors":
                    assert f"batch {n} and {small}" in e["check"], (case, fw, fmt, e["check"])
        torch_checks = {f: e["check"] for f, e in entries(exported, case, "torch").items()}
        assert "load_state_dict strict" in torch_checks["safetensors"]
        assert (
            "torch.export.load" in torch_checks["pt2"]
            and "torch.jit.load" in torch_checks["torchscript"]
        )
        assert "safe_mode=True" in entries(exported, case, "tensorflow")["keras"]["check"]


def test_onnx_files_are_single_files_with_a_dynamic_batch(exported):
    import onnx

    for case in all_cases(exported):
        folder = exported["out"] / case
        assert not list(folder.glob("*.onnx.data")), case  # no external-data sidecar
        for fw in FRAMEWORKS:
            e = entries(exported, case, fw)["onnx"]
            assert e["opset"] >= 17 and e["max_abs_diff"] < TOL, (case, fw, e)
            model = onnx.load(str(folder / e["file"]))
            dim = model.graph.input[0].type.tensor_type.shape.dim[0]
            assert dim.dim_param and not dim.HasField("dim_value"), (case, fw, dim)
        assert entries(exported, case, "torch")["onnx"]["exporter"] == "dynamo", case


def test_onnx_cross_framework_within_tolerance(exported):
    """Matched initial weights: the two frameworks' ONNX files compute the same function."""
    results = _cross_checks(exported)
    for case, result in results.items():
        assert result["ok"] is True, (case, result)
        assert result["max_abs_diff"] < TOL and result["batch"] == len(
            sample_for(exported["cases"][case])
        )
        assert result["files"] == ["torch.onnx", "tensorflow.onnx"]


def _cross_checks(exported) -> dict[str, dict]:
    """cross_check for every case in this process when it holds no framework, else in a child."""
    args = {
        case: (str(exported["out"] / case), str(exported["cases"][case]))
        for case in all_cases(exported)
    }
    if "torch" not in sys.modules and "tensorflow" not in sys.modules:
        return {
            case: cross_check(Path(out), sample_for(Path(proj)))
            for case, (out, proj) in args.items()
        }
    code = (
        "import json, sys; sys.path.insert(0, %r); from pathlib import Path; "
        "from test_export import sample_for; "
        "from engine.export.manifest import cross_check; args = json.loads(sys.argv[1]); "
        "print(json.dumps({c: cross_check(Path(o), sample_for(Path(p))) "
        "for c, (o, p) in args.items()}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code % str(HERE), json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(HERE.parents[1]),
    )
    return json.loads(proc.stdout)


def test_cross_check_reports_a_difference_and_a_missing_file(exported, tmp_path):
    case = "digits_cnn"
    folder = exported["out"] / case
    sample = sample_for(exported["cases"][case])
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "torch.onnx").write_bytes((folder / "torch.onnx").read_bytes())
    (mixed / "tensorflow.onnx").write_bytes(
        (exported["out"] / "digits_mlp" / "tensorflow.onnx").read_bytes()
    )
    different = cross_check(mixed, sample)
    assert (
        different["ok"] is False
        and different["max_abs_diff"] > TOL
        and "differ by" in different["reason"]
    )
    trained = cross_check(mixed, sample, expect_match=False)
    assert trained["ok"] is None and trained["max_abs_diff"] == different["max_abs_diff"]
    (mixed / "tensorflow.onnx").unlink()
    missing = cross_check(mixed, sample)
    assert missing["ok"] is False and "tensorflow.onnx was not written" in missing["reason"]
    (mixed / "torch.onnx").unlink()
    assert cross_check(mixed, sample) is None


def test_manifest_lists_every_file_with_size_and_checks(exported, tmp_path):
    case = "digits_cnn"
    folder = exported["out"] / case
    listed = exported["results"]["torch"][case] + exported["results"]["tensorflow"][case]
    cross = (
        cross_check(folder, sample_for(exported["cases"][case]))
        if "torch" not in sys.modules
        else _cross_checks(exported)[case]
    )
    path = write_manifest(folder, listed, cross, project="digits-cnn")
    assert path == folder / MANIFEST
    doc = json.loads(path.read_text())
    assert (
        doc["format"] == "twintrain-exports/1"
        and doc["project"] == "digits-cnn"
        and doc["ok"] is True
    )
    assert [f["file"] for f in doc["files"]] == [e["file"] for e in listed]
    for f in doc["files"]:
        assert set(f) >= {
            "format",
            "framework",
            "file",
            "bytes",
            "ok",
            "max_abs_diff",
            "check",
            "reason",
        }
    assert doc["cross_check"]["ok"] is True and doc["cross_check"]["max_abs_diff"] < TOL
    assert not [
        p for p in folder.iterdir() if p.name.startswith(f".{MANIFEST}")
    ]  # no temp file left
    assert stat.S_IMODE(path.stat().st_mode) & stat.S_IRGRP or os.name == "nt"
    # A failed entry, NaN and numpy values are written as plain JSON; ok turns false.
    bad = [
        {
            **listed[0],
            "ok": False,
            "max_abs_diff": float("nan"),
            "bytes": np.int64(5),
            "reason": "refused",
        }
    ]
    doc = json.loads(write_manifest(tmp_path, bad, None).read_text())
    assert (
        doc["ok"] is False
        and doc["files"][0]["max_abs_diff"] is None
        and doc["files"][0]["bytes"] == 5
    )


def test_safetensors_hold_the_matched_weights_in_pytorch_layout(exported):
    from safetensors.numpy import load_file

    case = "digits_cnn"
    project = read_project(exported["cases"][case])
    weights = init_weights(project, infer(project), 0)
    tensors = load_file(str(exported["out"] / case / "torch.safetensors"))
    np.testing.assert_array_equal(tensors["layers.fc1.weight"], weights["fc1"]["kernel"].T)
    np.testing.assert_array_equal(
        tensors["layers.conv1.weight"], weights["conv1"]["kernel"].transpose(3, 2, 0, 1)
    )
    assert set(tensors) == {f"layers.{lid}.{n}" for lid in weights for n in ("weight", "bias")}


def test_recurrent_tflite_is_converted_unrolled_and_says_so(exported):
    for case in ("sine_gru", "sine_lstm"):
        e = entries(exported, case, "tensorflow")["tflite"]
        assert e["ok"] and "unrolled" in e["note"] and "unrolled" in e["check"]
    assert "note" not in entries(exported, "digits_cnn", "tensorflow")["tflite"]


def test_a_refused_format_is_reported_and_the_others_still_written(exported):
    for fw, failing, message in (
        ("torch", "onnx", "exporter refused op aten::foo"),
        ("tensorflow", "tflite", "TFLite converter refused op FooOp"),
    ):
        refused = {e["format"]: e for e in exported["results"][fw]["_faults"]["refused"]}
        assert refused[failing]["ok"] is False and message in refused[failing]["reason"]
        assert "\n" not in refused[failing]["reason"]
        assert not (exported["out"] / "_faults" / "refused" / refused[failing]["file"]).exists()
        others = [e for f, e in refused.items() if f != failing]
        assert others and all(
            e["ok"] and (exported["out"] / "_faults" / "refused" / e["file"]).exists()
            for e in others
        )


def test_a_broken_backend_or_bad_format_gives_entries_not_exceptions(exported):
    for fw in FRAMEWORKS:
        broken = exported["results"][fw]["_faults"]["broken"]
        assert [e["format"] for e in broken] == list(FRAMEWORK_FORMATS[fw])
        assert all(not e["ok"] and "build() was not called" in e["reason"] for e in broken)
        unknown = exported["results"][fw]["_faults"]["unknown"]
        assert (
            len(unknown) == 1
            and not unknown[0]["ok"]
            and "did you mean 'onnx'" in unknown[0]["reason"]
        )


def test_exporters_print_nothing_to_stdout(exported):
    """Workers stream events on stdout; exporters that print (dynamo ONNX, TFLite) must not."""
    for fw, proc in exported["procs"].items():
        assert proc.stdout == "", f"{fw} printed to stdout: {proc.stdout[:500]!r}"
