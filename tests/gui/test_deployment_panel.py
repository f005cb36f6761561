"""The dashboard's Deployment tab: enabled only where there are exported models, refuses bad
batch sizes at the field, and runs the real benchmark (one process per model file) from a
background thread, showing the table, the verdict of each file and the chart; nothing of a
framework or of matplotlib is loaded in the app's process."""

from __future__ import annotations

import json
import sys

import pytest

from engine.deploy import DEPLOY_FILE
from engine.spec.errors import SpecError
from gui.run.deployment_panel import EMPTY_TEXT, parse_batches
from tests.in_process_cli import twintrain


def test_batch_sizes_are_checked_before_anything_runs():
    assert parse_batches("") is None
    assert parse_batches(" 1, 32 ") == (1, 32)
    for bad, says in (("1, x", "whole numbers separated by commas"), ("0", "1 or more")):
        with pytest.raises(SpecError, match=says):
            parse_batches(bad)


def test_without_exported_models_there_is_nothing_to_run(dash, tmp_path):
    panel = dash.deployment
    assert dash.pages.tabText(1) == "Deployment"
    panel.set_folder(tmp_path)  # a folder, but no exports.json
    assert not panel.run_button.isEnabled() and not panel.start()
    assert panel.info.text() == EMPTY_TEXT


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A tiny trained run with two exported formats, made by the CLI as a user would."""
    out = tmp_path_factory.mktemp("deploy") / "run"
    proc = twintrain(
        "train",
        "xor_mlp",
        "--epochs",
        "1",
        "--quiet",
        "--export",
        "onnx,safetensors",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_benchmark_runs_in_the_background_and_shows_every_file(dash, qtbot, run_folder):
    loaded_before = set(sys.modules)
    panel = dash.deployment
    panel.set_folder(run_folder)
    assert panel.run_button.isEnabled() and panel.table.rowCount() == 0
    panel.batches.setText("1, 8")
    panel.seconds = 0.2
    panel.batches.setText("1, zero")
    assert not panel.start() and "whole numbers" in panel.info.text()
    panel.batches.setText("1, 8")
    assert panel.start()
    assert not panel.run_button.isEnabled() and panel.cancel_button.isVisibleTo(panel)
    qtbot.waitUntil(lambda: panel.task is None, timeout=300_000)
    result = panel.result
    assert result is not None, panel.info.text()
    files = {row["file"] for row in result["formats"]}
    assert {"torch.onnx", "torch.safetensors", "tensorflow.onnx"} <= files
    heads = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert "p50 ms @1" in heads and "p99 ms @8" in heads
    assert panel.table.rowCount() == len(result["formats"])
    status = heads.index("outputs")
    assert status == len(heads) - 1 and "status" not in heads
    onnx_row = [row["file"] for row in result["formats"]].index("torch.onnx")
    assert panel.table.item(onnx_row, status).text().startswith("outputs match (max |diff| ")
    eager = [row["file"] for row in result["formats"]].index("eager: torch (weights/torch.npz)")
    assert panel.table.item(eager, status).text().startswith("baseline: the trained model")
    assert panel.chart.image is not None and not panel.chart.pixmap().isNull()
    assert (run_folder / DEPLOY_FILE).is_file()
    saved = json.loads((run_folder / DEPLOY_FILE).read_text(encoding="utf-8"))
    assert saved["formats"] == result["formats"]
    assert f"{len(result['formats'])} models" in panel.info.text()
    new = set(sys.modules) - loaded_before
    assert not {"torch", "tensorflow", "keras", "jax", "matplotlib", "onnxruntime"} & new
    # Shown again from the folder (another run picked, then this one): read, not re-run.
    panel.set_folder(None)
    assert panel.table.rowCount() == 0
    panel.set_folder(run_folder)
    assert panel.task is None and panel.table.rowCount() == len(result["formats"])
