"""`twintrain diff`: every layer of two columns compared on one batch, where they part and why.

The figures come from real workers on real presets (engine.layer_probe); the comparison's own
rules (tolerance, where a difference starts, what follows from it) are checked on arrays first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from engine.divergence import compare, explain, first_divergent, result, run_diff
from engine.layer_probe import load_probe, probe_file
from engine.presets import list_presets, load_project_arg
from tests.conftest import ROOT
from tests.in_process_cli import twintrain

NODES = [
    {"id": i, "type": t, "params": p}
    for i, t, p in (
        ("a", "Dense", {}),
        ("drop", "Dropout", {"rate": 0.5}),
        ("b", "Dense", {}),
    )
]
CONTEXT = {"init": "matched", "optimizer": "matched", "optimizer_note": "", "compiled": False}


def _probe(scale: dict[str, float] | None = None) -> dict:
    """Three layers' arrays; ``scale`` multiplies one layer's output (a difference born there)."""
    rng = np.random.default_rng(0)
    out = {}
    for node in NODES:
        k = (scale or {}).get(node["id"], 1.0)
        out[node["id"]] = {
            "output": rng.normal(size=(4, 3)).astype(np.float32) * k,
            "output_grad": rng.normal(size=(4, 3)).astype(np.float32) * 1e-2,
            "weight_grads": {"kernel": np.ones((3, 3), np.float32)}
            if node["type"] == "Dense"
            else {},
            "updates": {"kernel": np.full((3, 3), 1e-3, np.float32)}
            if node["type"] == "Dense"
            else {},
        }
    return out


def test_equal_probes_are_within_tolerance_everywhere():
    rows = compare(_probe(), _probe(), NODES, CONTEXT)
    explain(rows, CONTEXT)
    assert all(r["within_tolerance"] and r["cause"] is None for r in rows)
    assert first_divergent(rows) is None


def test_a_difference_is_pinned_where_it_starts_and_the_rest_follows():
    a, b = _probe(), _probe({"drop": 2.0})
    b["b"]["output"] = b["b"]["output"] + 1.0  # downstream: carried forward
    b["a"]["output_grad"] = b["a"]["output_grad"] * 3  # upstream: carried backward
    rows = compare(a, b, NODES, CONTEXT)
    explain(rows, CONTEXT)
    assert first_divergent(rows) == "drop"
    by = {r["id"]: r for r in rows}
    assert by["drop"]["cause"].startswith("Dropout draws its own random mask")
    assert by["b"]["cause"] == "follows from drop (compared in place)"
    assert by["a"]["cause"] == "follows from drop (compared in place)"
    assert not any(r["unexplained"] for r in rows)


def test_a_difference_with_no_known_cause_is_unexplained():
    a, b = _probe(), _probe()
    b["a"]["output"] = b["a"]["output"] * 1.01  # 1%: far past float32 rounding
    rows = compare(a, b, NODES, CONTEXT)
    explain(rows, CONTEXT)
    assert first_divergent(rows) == "a"
    assert rows[0]["unexplained"] and rows[0]["cause"] is None
    assert rows[0]["forward"]["rel"] == pytest.approx(0.01, rel=0.05)
    # A rounding-sized difference is not one.
    b["a"]["output"] = a["a"]["output"] * (1 + 1e-7)
    rows = compare(a, b, NODES, CONTEXT)
    assert rows[0]["within_tolerance"]


def _diff(*args: str) -> dict:
    proc = twintrain("diff", *args, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _agrees_at_step_0(project, preset: str, columns: tuple[str, str]) -> None:
    """Every layer within tolerance, or, with Dropout, that layer first and explained."""
    dropout = any(
        layer.type == "Dropout" and layer.resolved().get("rate", 0) > 0 for layer in project.layers
    )
    res = json.loads(json.dumps(run_diff(project, columns)))
    assert res["frameworks"] == list(columns) and res["step"] == 0
    ids = [layer.id for layer in project.layers]
    assert [row["id"] for row in res["layers"]] == ids, preset
    for row in res["layers"]:
        for key in ("forward_max_abs_diff", "output_grad_max_abs_diff", "update_max_abs_diff"):
            assert key in row
    if dropout:  # the Dropout layer first, explained; every layer before it agrees
        first = res["first_divergent_layer"]
        rows = {row["id"]: row for row in res["layers"]}
        assert rows[first]["type"] == "Dropout", (preset, first)
        assert rows[first]["cause"].startswith("Dropout draws"), preset
        for row in res["layers"][: ids.index(first)]:
            assert row["forward_max_abs_diff"] <= 1e-5, (preset, row)
        assert not any(row["unexplained"] for row in res["layers"]), preset
    else:
        assert res["first_divergent_layer"] is None, (preset, res["layers"])
        assert all(row["within_tolerance"] for row in res["layers"]), preset


@pytest.mark.slow
@pytest.mark.timeout(900)  # sixteen presets, two workers each (served: tests/served_workers.py)
def test_every_preset_is_within_tolerance_at_step_0_in_matched_mode():
    # `twintrain diff`'s own function, in this process (its workers are the suite's served ones,
    # so the sixteen presets import each framework once); the CLI itself is the step-20 tests'.
    for preset in list_presets():
        _agrees_at_step_0(load_project_arg(preset.key), preset.key, ("torch", "tensorflow"))


def _presets_covering_every_layer_type() -> list[str]:
    """Few presets that together use every layer type any preset uses (greedy)."""
    types = {
        p.key: {layer.type for layer in load_project_arg(p.key).layers} for p in list_presets()
    }
    chosen: list[str] = []
    left = set().union(*types.values())
    while left:
        best = max(sorted(types), key=lambda k: len(types[k] & left))
        chosen.append(best)
        left -= types[best]
    return chosen


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("runtime", ["keras-jax", "keras-torch"])
def test_the_keras_runtimes_probe_every_layer_type_at_step_0(runtime):
    """Each Keras runtime's probe and per-layer isolation run for every layer type and agree with
    PyTorch (Keras on JAX once failed on any convolution: its stateless call passed ``training``
    to a layer whose call takes none)."""
    presets = _presets_covering_every_layer_type()
    assert "digits_cnn" in presets or "mnist1d_cnn" in presets
    for preset in presets:
        _agrees_at_step_0(load_project_arg(preset), preset, ("torch", runtime))


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("preset", "columns"),
    [("digits_cnn", "torch,tensorflow"), ("sine_gru", "keras-jax,keras-torch:compile")],
)
def test_step_20_replays_the_runs_batches_and_still_agrees(preset, columns):
    res = _diff(preset, "--frameworks", columns, "--step", "20")
    assert res["step"] == 20 and res["frameworks"] == columns.split(",")
    assert res["first_divergent_layer"] is None, res["layers"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_native_optimizer_and_init_name_their_cause():
    res = _diff("digits_mlp", "--optimizer", "native")
    first = next(r for r in res["layers"] if r["id"] == res["first_divergent_layer"])
    assert first["forward_max_abs_diff"] <= 1e-5 and first["update_max_abs_diff"] > 1e-5
    assert "Keras adds epsilon to sqrt(v) before the bias correction" in first["cause"]
    res = _diff("digits_mlp", "--init", "native")
    assert res["first_divergent_layer"] == "fc1"
    assert all(
        r["cause"] == "native init: each framework drew its own initial weights"
        for r in res["layers"]
        if not r["within_tolerance"]
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_wrong_weight_conversion_is_unexplained_where_it_is(tmp_path):
    """PyTorch's Conv2D bias loaded wrong: TensorFlow is the reference, PyTorch's layers run
    alone on its inputs, so each broken layer is pinned and the ones between them agree."""
    worker = ROOT / "tests" / "engine" / "probe_worker.py"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    reference = probe_file(tmp_path, "tensorflow")
    for column, extra in (
        ("tensorflow", []),
        ("torch", ["--wrong-bias", "Conv2D", "--isolate", str(reference)]),
    ):
        subprocess.run(
            [sys.executable, str(worker), column, "digits_cnn", str(tmp_path), *extra],
            check=True,
            timeout=300,
            env=env,
        )
    a, b = (load_probe(probe_file(tmp_path, c)) for c in ("tensorflow", "torch"))
    context = {"step": 0, "init": "matched", "optimizer": "matched", "optimizer_note": ""}
    res = result(a, b, load_project_arg("digits_cnn"), ("tensorflow", "torch"), context)
    assert res["comparison"] == "isolated"
    rows = {r["id"]: r for r in res["layers"]}
    assert res["first_divergent_layer"] == "conv1"
    for broken in ("conv1", "conv2"):  # the second is pinned too, not hidden behind the first
        assert rows[broken]["unexplained"] and rows[broken]["cause"] is None, rows[broken]
    assert rows["pool1"]["within_tolerance"] and not rows["pool1"]["in_place_within_tolerance"]
    assert rows["pool1"]["cause"] == "follows from conv1: alone, this layer agrees"
    assert rows["fc1"]["within_tolerance"]


def test_diff_refuses_other_than_two_columns(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "diff", "xor_mlp", "--frameworks", "torch"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "twintrain diff: --frameworks takes exactly two columns to compare, got 1 (torch)"
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_run_whose_curves_part_gets_the_layer_table_in_its_report(tmp_path, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.delenv("TWINTRAIN_NO_LAYER_DIFF", raising=False)
    proc = twintrain("train", "breast_cancer_bn", "--epochs", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    parted = summary["parity"]["first_divergent_step"]
    assert parted is not None  # Dropout's masks: the curves part at once
    res = json.loads((out / "divergence.json").read_text())
    assert res["step"] == parted - 1 and res["first_divergent_layer"] == "drop"
    report = (out / "report.html").read_text()
    assert f"every layer at batch {parted}</h3>" in report
    assert "Dropout draws its own random mask" in report
