"""The deployment benchmark (engine.deploy, `twintrain bench-export`) on tiny models, with the
real runtimes in child processes: every field of every format, a file whose outputs were
altered, a runtime that is not installed, a crashed or hung child, cancel, bad input, the
report's Deployment section. The pytest process itself never imports a framework."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.deploy import DEPLOY_FILE, BenchmarkCancelled, chart_path, run_benchmark
from engine.spec.errors import SpecError
from tests.processes import live_children

FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "matplotlib")
ROW_KEYS = {
    "file",
    "format",
    "framework",
    "runtime",
    "status",
    "reason",
    "size_bytes",
    "import_s",
    "load_s",
    "session_s",
    "first_inference_s",
    "latency_ms",
    "samples_per_s",
    "peak_rss_bytes",
    "max_abs_diff",
    "accuracy",
}
FAST = {"batches": (1, 4), "seconds": 0.2}


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """xor_mlp trained one epoch in both frameworks with every export format."""
    out = tmp_path_factory.mktemp("deploy_run") / "run"
    args = ["train", "xor_mlp", "--epochs", "1", "--out", str(out), "--quiet", "--export", "all"]
    assert main(args) == 0
    return out


@pytest.fixture(scope="session")
def torch_exports(tmp_path_factory) -> Path:
    """An untrained `twintrain export` folder with two PyTorch files (quick to benchmark)."""
    out = tmp_path_factory.mktemp("deploy_export") / "models"
    args = ["export", "xor_mlp", "--out", str(out), "--formats", "safetensors,onnx"]
    assert main([*args, "--frameworks", "torch"]) == 0
    return out


@pytest.fixture
def no_framework_here():
    before = {m for m in FRAMEWORKS if m in sys.modules}
    yield
    assert {m for m in FRAMEWORKS if m in sys.modules} - before == set()


def _copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def _rows(result: dict) -> dict[str, dict]:
    """Rows by file name; an ONNX file's OpenVINO row (same file) is left out."""
    return {row["file"]: row for row in result["formats"] if row["format"] != "onnx-openvino"}


@pytest.mark.slow
def test_every_format_has_every_field_and_the_report_shows_it(
    trained_run, tmp_path, no_framework_here
):
    run = _copy(trained_run, tmp_path)
    calls = []
    result = run_benchmark(
        run, quantized=True, progress=lambda d, t, s: calls.append((d, t, s)), **FAST
    )
    rows = _rows(result)
    expected = {
        "torch.safetensors",
        "torch.pt2",
        "torch.torchscript.pt",
        "torch.onnx",
        "tensorflow.keras",
        "tensorflow_savedmodel",
        "tensorflow.tflite",
        "tensorflow.onnx",
        "tensorflow.int8-dynamic.tflite",
        "torch.int8-dynamic.onnx",
        "tensorflow.int8-dynamic.onnx",
    }
    assert expected <= set(rows)
    assert sum(r["baseline"] for r in result["formats"]) == 2
    openvino = [r for r in result["formats"] if r["format"] == "onnx-openvino"]
    assert sorted(r["file"] for r in openvino) == ["tensorflow.onnx", "torch.onnx"]
    for row in openvino:  # optional: run where installed, skipped (no child) where not
        assert row["status"] in ("ok", "skipped"), row["reason"]
        if row["status"] == "skipped":
            assert "openvino" in row["reason"] and row["load_s"] is None
    for row in rows.values():
        assert set(row) >= ROW_KEYS, row["file"]
        assert row["status"] == "ok", (row["file"], row["reason"])
        assert row["size_bytes"] > 0 and row["load_s"] >= 0 and row["import_s"] > 0
        assert row["first_inference_s"] > 0 and row["peak_rss_bytes"] > 10 * 2**20
        for b in ("1", "4"):
            figures = row["latency_ms"][b]
            assert 0 < figures["p50"] <= figures["p90"] <= figures["p99"], row["file"]
            assert figures["samples_per_s"] > 0 and figures["iterations"] >= 10
        assert row["max_abs_diff"] is not None and row["accuracy"] is not None
        if not row["quantized"]:
            assert row["max_abs_diff"] <= 1e-4, row["file"]
    assert rows["torch.onnx"]["session_s"] > 0 and rows["tensorflow.tflite"]["session_s"] > 0
    quantized = rows["tensorflow.int8-dynamic.tflite"]
    assert quantized["source"] == "tensorflow_savedmodel"
    assert quantized["float_accuracy"] == rows["tensorflow_savedmodel"]["accuracy"]
    assert rows["torch.int8-dynamic.onnx"]["size_bytes"] < rows["torch.onnx"]["size_bytes"]
    assert {"torch", "tensorflow", "onnxruntime", "keras"} <= set(result["runtimes"])
    assert result["threads"] == 1 and result["batches"] == [1, 4]
    assert json.loads((run / DEPLOY_FILE).read_text())["formats"] == json.loads(
        json.dumps(result["formats"])
    )
    assert chart_path(run) == run / "deploy.png" and chart_path(run).stat().st_size > 1000
    assert chart_path(run / "models") == run / "deploy.png"
    report = (run / "report.html").read_text()
    assert "<h2>Deployment</h2>" in report and "tensorflow.int8-dynamic.tflite" in report
    assert calls[-1][0] == calls[-1][1] and [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert not live_children()


def test_an_altered_file_is_a_mismatch_with_its_difference(torch_exports, tmp_path):
    folder = _copy(torch_exports, tmp_path)
    script = (
        "import sys, onnx, numpy as np\n"
        "from onnx import numpy_helper\n"
        "m = onnx.load(sys.argv[1])\n"
        "init = max(m.graph.initializer, key=lambda t: np.prod(t.dims))\n"
        "a = numpy_helper.to_array(init).copy()\n"
        "a.flat[0] += 0.5\n"
        "init.CopyFrom(numpy_helper.from_array(a, init.name))\n"
        "onnx.save(m, sys.argv[1])\n"
    )
    subprocess.run([sys.executable, "-c", script, str(folder / "torch.onnx")], check=True)
    result = run_benchmark(folder, **FAST)
    rows = _rows(result)
    assert rows["torch.onnx"]["status"] == "mismatch"
    assert rows["torch.onnx"]["max_abs_diff"] > 1e-3
    assert "differ from the eager baseline's by" in rows["torch.onnx"]["reason"]
    assert rows["torch.safetensors"]["status"] == "ok"
    assert rows["torch.safetensors"]["max_abs_diff"] == 0.0
    baseline = next(r for r in result["formats"] if r["baseline"])
    assert "initial weights" in baseline["file"]  # an untrained export: the matched init
    assert (folder / DEPLOY_FILE).is_file()
    assert main(["bench-export", str(folder), "--batch", "2", "--seconds", "0.1"]) == 1


def test_a_runtime_not_installed_is_skipped_not_failed(
    torch_exports, tmp_path, monkeypatch, capsys
):
    fake = tmp_path / "fake" / "onnxruntime"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named onnxruntime (test)')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))  # the children's, not this process's
    folder = _copy(torch_exports, tmp_path)
    result = run_benchmark(folder, **FAST)
    rows = _rows(result)
    assert rows["torch.onnx"]["status"] == "skipped"
    assert "runtime not installed" in rows["torch.onnx"]["reason"]
    assert "onnxruntime" in rows["torch.onnx"]["reason"]
    assert rows["torch.safetensors"]["status"] == "ok"
    capsys.readouterr()
    assert main(["bench-export", str(folder), "--batch", "1", "--seconds", "0.1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)  # --json: deploy.json's object, exit 0
    assert printed == json.loads((folder / DEPLOY_FILE).read_text())
    assert _rows(printed)["torch.onnx"]["status"] == "skipped" and printed["batches"] == [1]


@pytest.mark.parametrize("kind", ["crash", "hang"])
def test_a_crashed_or_hung_child_fails_its_file_alone(kind, torch_exports, tmp_path, monkeypatch):
    import engine.deploy.benchmark as benchmark

    monkeypatch.setenv("TWINTRAIN_DEPLOY_FAULT", f"torch.onnx:{kind}")
    monkeypatch.setattr(benchmark, "ANSWER_GRACE_S", 3.0)
    result = run_benchmark(_copy(torch_exports, tmp_path), **FAST)
    rows = _rows(result)
    assert rows["torch.onnx"]["status"] == "failed"
    assert ("hung" if kind == "hang" else "exit code 7") in rows["torch.onnx"]["reason"]
    assert rows["torch.safetensors"]["status"] == "ok"
    assert rows["torch.safetensors"]["latency_ms"]["4"]["p50"] > 0
    assert not live_children()


def test_cancel_stops_every_child_and_writes_nothing(torch_exports, tmp_path):
    folder = _copy(torch_exports, tmp_path)
    seen = []
    with pytest.raises(BenchmarkCancelled, match="cancelled"):
        run_benchmark(
            folder,
            progress=lambda d, t, s: seen.append(d),
            cancelled=lambda: len(seen) >= 2,
            **FAST,
        )
    assert not (folder / DEPLOY_FILE).exists()
    assert not live_children()


def test_bad_input_is_one_line_naming_what_to_fix(tmp_path, torch_exports):
    with pytest.raises(SpecError, match="neither a run folder nor an export folder"):
        run_benchmark(tmp_path)
    with pytest.raises(SpecError, match="not a folder"):
        run_benchmark(tmp_path / "missing")
    with pytest.raises(SpecError, match="threads"):
        run_benchmark(torch_exports, threads=0)
    with pytest.raises(SpecError, match="batch sizes"):
        run_benchmark(torch_exports, batches=(1, 0))
    with pytest.raises(SpecError, match="seconds"):
        run_benchmark(torch_exports, seconds=0)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch", "0"], "--batch takes whole numbers of 1 or more"),
        (["--batch", "1,x"], "--batch takes whole numbers of 1 or more"),
        (["--threads", "0"], "--threads takes a whole number of 1 or more"),
        (["--seconds", "nan"], "--seconds takes a number above 0"),
    ],
)
def test_bad_flags_exit_2_before_any_child(flags, message, torch_exports, capsys):
    assert main(["bench-export", str(torch_exports), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("twintrain bench-export: ") and message in err
    assert len(err.splitlines()) == 1
    assert not (torch_exports / DEPLOY_FILE).exists()


def test_a_folder_it_cannot_use_exits_2(tmp_path, capsys):
    (tmp_path / "summary.json").write_text("{}")
    assert main(["bench-export", str(tmp_path)]) == 2
    assert "has no exported models" in capsys.readouterr().err


@pytest.mark.slow
def test_an_export_of_trained_weights_is_compared_with_those_weights(trained_run, tmp_path):
    out = tmp_path / "exported"
    args = ["export", "xor_mlp", "--out", str(out), "--formats", "onnx", "--frameworks", "torch"]
    assert main([*args, "--weights", str(trained_run)]) == 0
    manifest = json.loads((out / "exports.json").read_text())
    assert manifest["weights"] == str((trained_run / "weights").resolve())
    assert (out / "project.twintrain.json").is_file()
    result = run_benchmark(out, batches=(2,), seconds=0.1)
    rows = _rows(result)
    baseline = next(r for r in result["formats"] if r["baseline"])
    assert baseline["file"] == "eager: torch (weights/torch.npz)"
    assert rows["torch.onnx"]["status"] == "ok" and rows["torch.onnx"]["max_abs_diff"] < 1e-5
    assert (out / DEPLOY_FILE).is_file() and not (trained_run / DEPLOY_FILE).exists()
