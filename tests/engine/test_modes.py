"""Execution modes as columns (RUNTIME:MODE): every mode of every runtime trains the same math
from the same weights on the same batches, and its compile cost is measured apart.

One CLI run trains every CPU mode (compile-max is left to bench/modes.py: its autotuning takes
minutes) on XOR with a batch of 30, so the 27th step of each epoch is a smaller batch: the
modes that compile per shape must count it as one recompile, at step 27, and only once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from engine.compile_figures import break_even, compile_text, steady_mask, steady_start
from engine.fastest import report
from engine.presets import load_project_arg
from engine.runtimes import (
    RUNTIMES,
    colour_of,
    file_stem,
    installed_runtimes,
    label_of,
    parse_runtimes,
    split_column,
)
from engine.spec import save_project
from engine.spec.errors import SpecError
from tests.conftest import ROOT
from tests.in_process_cli import twintrain

COLUMNS = (
    "torch",
    "torch:compile",
    "tensorflow",
    "tensorflow:eager",
    "tensorflow:xla",
    "keras-jax",
    "keras-jax:eager",
    "keras-torch",
    "keras-torch:compile",
)
STEPS_PER_EPOCH = 27  # 800 XOR samples in batches of 30: 26 full ones and one of 20
# Modes that compile one program per batch shape: the smaller last batch is one recompile.
PER_SHAPE = ("torch:compile", "tensorflow:xla", "keras-jax", "keras-torch:compile")
needs_all = pytest.mark.skipif(
    set(installed_runtimes()) != set(RUNTIMES), reason="not every runtime is installed here"
)


# ---- the registry: columns, names, refusals ------------------------------------------------------


def test_a_column_is_a_runtime_and_a_mode_and_the_default_mode_has_no_suffix():
    assert parse_runtimes("torch,torch:compile,TensorFlow:graph,keras-jax:eager,torch:eager") == (
        "torch",
        "torch:compile",
        "tensorflow",
        "keras-jax:eager",
    )
    assert split_column("tensorflow") == ("tensorflow", "graph")
    assert split_column("torch:compile") == ("torch", "compile")
    assert label_of("torch:compile") == "PyTorch (compile)" and label_of("torch") == "PyTorch"
    assert file_stem("tensorflow:xla") == "tensorflow_xla"
    shades = {colour_of(f"torch:{m.id}") for m in RUNTIMES["torch"].modes}
    assert len(shades) == len(RUNTIMES["torch"].modes)  # every mode its own colour
    assert colour_of("torch") == RUNTIMES["torch"].colour


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "torch:xla",
            "PyTorch has no mode 'xla'; its modes: eager, compile, compile-max, "
            "reduce-overhead (GPU only), or fastest",
        ),
        (
            "tensorflow:grahp",
            "TensorFlow/Keras has no mode 'grahp' (did you mean 'graph'?); its modes: graph, "
            "eager, xla, or fastest",
        ),
        ("keras-jax:", "'keras-jax:' names no mode; Keras on JAX's modes: jit, eager, or fastest"),
        ("torch:fastest", "'torch:fastest': fastest is not allowed here"),
    ],
)
def test_a_mode_the_runtime_lacks_is_refused_naming_the_modes_it_has(text, message):
    with pytest.raises(SpecError) as info:
        parse_runtimes(text)
    assert str(info.value) == f"field 'frameworks': {message}"


def test_the_cli_refuses_a_mode_before_anything_starts(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "train", "xor_mlp", "--frameworks", "torch,torch:xla"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2, proc.stderr
    assert "PyTorch has no mode 'xla'; its modes: eager, compile" in proc.stderr
    assert not list(tmp_path.iterdir())


# ---- compile figures from recorded events --------------------------------------------------------


def test_steady_steps_start_after_the_last_recompile():
    compiles = [{"step": 1, "graphs": 1, "step_time_s": 5.0}, {"step": 27, "graphs": 2}]
    assert steady_start(100, 5, compiles) == 27
    mask = steady_mask(100, 27, compiles)
    assert mask[:27].sum() == 0 and mask[27:].all()
    # A recompile at the very end would leave nothing steady: only compile steps are left out.
    late = [{"step": 1, "graphs": 1}, {"step": 100, "graphs": 2}]
    start = steady_start(100, 5, late)
    assert start == 5
    mask = steady_mask(100, start, late)
    assert mask.sum() == 94 and not mask[99]


def test_break_even_is_compile_time_over_time_saved_per_step():
    figures = {
        "torch": {"mode": "eager", "compile_s": None, "step_time_median_s": 0.0010},
        "torch:compile": {"mode": "compile", "compile_s": 6.0, "step_time_median_s": 0.0008},
        "torch:compile-max": {"mode": "compile-max", "compile_s": 9.0, "step_time_median_s": 0.002},
        "tensorflow:xla": {"mode": "xla", "compile_s": 1.0, "step_time_median_s": 0.001},
    }
    even = break_even(figures)
    assert even["torch:compile"]["steps"] == 30_000  # 6 s / 0.2 ms
    assert even["torch:compile"]["text"] == "after 30,000 steps (vs eager)"
    assert even["torch:compile-max"] == {
        "against": "torch",
        "steps": None,
        "text": "never (not faster than eager)",
        "extra_compile_s": 9.0,
        "saved_per_step_s": pytest.approx(-0.001),
    }
    assert "tensorflow:xla" not in even  # its default mode (graph) is not in this run
    assert compile_text(False, None, 0, []) == "none (eager)"
    assert compile_text(True, 1.234, 2, [27]) == "1.23 s, 2 graphs, 1 recompile (step 27)"


# ---- every mode trains, with parity and counted compiles -----------------------------------------


@pytest.fixture(scope="module")
def modes_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("modes")
    project = load_project_arg("xor_mlp")
    project.training["batch_size"] = 30
    project.training["epochs"] = 2
    save_project(project, folder / "xor30.twintrain.json")
    out = folder / "run"
    proc = twintrain(
        "train",
        str(folder / "xor30.twintrain.json"),
        "--frameworks",
        ",".join(COLUMNS),
        "--export",
        "safetensors,keras",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads((out / "summary.json").read_text()), out


@pytest.mark.slow
@pytest.mark.timeout(900)  # nine workers, two of them compiling with Inductor
@needs_all
def test_every_mode_trains_the_same_losses(modes_run):
    _, summary, _ = modes_run
    assert list(summary["frameworks"]) == list(COLUMNS)
    par = summary["parity"]
    assert par["reference"] == "torch" and list(par["pairs"]) == list(COLUMNS[1:])
    for column, pair in par["pairs"].items():
        assert pair["steps_compared"] == 2 * STEPS_PER_EPOCH, column
        assert pair["max_loss_abs_diff"] < 1e-4, (column, pair)
    for column, fig in summary["frameworks"].items():
        assert fig["status"] == "finished" and fig["mode"] == split_column(column)[1], column


@pytest.mark.slow
@pytest.mark.timeout(900)
@needs_all
def test_compiles_and_the_smaller_last_batch_are_counted(modes_run):
    _, summary, _ = modes_run
    figures = summary["frameworks"]
    for column in PER_SHAPE:
        fig = figures[column]
        assert fig["first_graphs"] >= 1 and fig["recompiles"] == 1, (column, fig)
        assert fig["recompile_steps"] == [STEPS_PER_EPOCH], column  # not again in epoch 2
        assert fig["compile_s"] > 0 and fig["first_step_s"] > fig["step_time_median_s"], column
        assert "1 recompile (step 27)" in fig["compile_text"], column
        # Steady figures start after the recompile: epoch 2's steps, its smaller last one too.
        assert fig["steady_steps"] == STEPS_PER_EPOCH, column
    graph = figures["tensorflow"]  # a batch axis of None: one trace serves both shapes
    assert graph["graphs"] == 1 and graph["recompiles"] == 0 and graph["recompile_steps"] == []
    for column in ("torch", "tensorflow:eager", "keras-jax:eager", "keras-torch"):
        fig = figures[column]
        assert fig["compile_s"] is None and fig["graphs"] == 0, column
        assert fig["compile_text"] == "none (eager)", column
    # Break-even against the runtime's default mode in the same run, and only there.
    for column in ("torch:compile", "tensorflow:xla", "tensorflow:eager", "keras-jax:eager"):
        text = figures[column]["break_even_text"]
        assert text.startswith(("after ", "never (", "from step 1")), (column, text)
        steps = figures[column]["break_even_steps"]
        assert steps is None or steps >= 0
    assert figures["torch"]["break_even_text"] is None


@pytest.mark.slow
@pytest.mark.timeout(900)
@needs_all
def test_the_table_and_files_name_each_mode(modes_run):
    table, _, out = modes_run
    header = next(line for line in table.splitlines() if "PyTorch" in line)
    for column in COLUMNS:
        assert label_of(column) in header, column
    assert "PyTorch (compile): max |loss diff|" in table
    names = sorted(p.name for p in (out / "weights").iterdir())
    assert names == sorted(f"{file_stem(c)}.npz" for c in COLUMNS)
    for column in COLUMNS:
        assert (out / "tb" / file_stem(column)).is_dir(), column
    manifest = json.loads((out / "models" / "exports.json").read_text())
    files = {e["file"] for e in manifest["files"] if e.get("ok")}
    assert {"torch.safetensors", "torch_compile.safetensors"} <= files
    assert {"tensorflow_xla.keras", "keras-torch_compile.keras"} <= files
    # The export is the same model whatever mode trained it: equal weights, equal files' sizes.
    a = np.load(out / "weights" / "torch.npz")
    b = np.load(out / "weights" / "torch_compile.npz")
    assert set(a.files) == set(b.files)
    for key in a.files:
        assert np.abs(a[key] - b[key]).max() < 1e-4, key


# ---- RUNTIME:fastest ----------------------------------------------------------------------------


def test_the_probe_chooses_the_fastest_steady_mode_and_says_why():
    tried = {
        "torch": {"steps": 40, "step_time_median_s": 0.0010, "first_step_s": 0.02},
        "torch:compile": {
            "steps": 40,
            "step_time_median_s": 0.0008,
            "first_step_s": 6.0,
            "compile_s": 6.0,
        },
        "torch:compile-max": {"steps": 3, "error": "RuntimeError: no C++ compiler"},
    }
    found = report("torch", tried, probe_s=12.5, steps=40)
    assert found["chosen"] == "compile" and found["column"] == "torch:compile"
    assert found["tried"]["compile-max"]["error"] == "RuntimeError: no C++ compiler"
    assert found["why"] == (
        "compile: fastest steady median step, 0.800 ms (against eager 1.000 ms); "
        "probe 12.5 s (40 steps a mode), 6.0 s of it compiling"
    )
    with pytest.raises(RuntimeError, match="PyTorch: no mode finished its probe"):
        report("torch", {"torch": {"error": "boom"}}, probe_s=1.0, steps=40)


@pytest.mark.slow
@pytest.mark.timeout(600)
@needs_all
def test_fastest_probes_every_mode_then_trains_the_winner(tmp_path):
    out = tmp_path / "run"
    proc = twintrain(
        "train",
        "xor_mlp",
        "--frameworks",
        "torch,keras-jax:fastest",
        "--epochs",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    probe = summary["fastest"]["keras-jax"]
    assert set(probe["tried"]) == {"jit", "eager"}
    for mode, row in probe["tried"].items():
        assert row["error"] is None and row["steps"] >= 25, (mode, row)  # one epoch of XOR
    # Eager JAX dispatches every op from Python: tens of times slower than the jitted step.
    assert probe["chosen"] == "jit" and probe["column"] == "keras-jax"
    assert list(summary["frameworks"]) == ["torch", "keras-jax"]
    assert probe["probe_s"] > 0 and probe["why"].startswith("jit: fastest steady median step")
    assert f"Fastest Keras on JAX mode: {probe['why']}" in proc.stderr
    assert f"Fastest Keras on JAX mode (probe): {probe['why']}" in proc.stdout
    assert summary["parity"]["max_loss_abs_diff"] < 1e-4


def test_the_exports_table_stays_aligned_with_long_column_names():
    from engine.cli import format_exports

    entries = [
        {
            "framework": fw,
            "format": "onnx",
            "file": f"{file_stem(fw)}.onnx",
            "bytes": 10,
            "ok": True,
        }
        for fw in ("torch", "keras-torch:compile")
    ]
    lines = format_exports({"entries": entries, "path": "exports.json"}).splitlines()[:2]
    starts = {line.index("onnx ") for line in lines}  # the format column
    assert len(starts) == 1, lines
    assert len({line.index(" B ") for line in lines}) == 1, lines
