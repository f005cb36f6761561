"""File > Export Model… after a run exports that run's trained weights by default, says which
weights it exported, and still offers the untrained initial weights (issue 14, point 14)."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
from safetensors.numpy import load_file

from engine.presets import load_project_arg, preset_path
from engine.spec import validate
from engine.trained_weights import save_weights
from engine.weights import init_weights
from gui.run.export_actions import ExportDialog
from tests.gui.modal import answer_modal


def _fake_run(tmp_path):
    """A run folder as a finished run leaves it, with 'trained' weights (initial + 0.5)."""
    run = tmp_path / "xor-mlp-20261203-170000-000000"
    run.mkdir()
    project = load_project_arg("xor_mlp")
    shutil.copy(preset_path("xor_mlp"), run / "project.twintrain.json")
    trained = {
        lid: {n: a + 0.5 for n, a in arrays.items()}
        for lid, arrays in init_weights(project, validate(project), 0).items()
    }
    for fw in ("torch", "tensorflow"):
        save_weights(trained, run / "weights" / f"{fw}.npz")
    summary = {
        "project": "xor-mlp",
        "project_path": str(preset_path("xor_mlp")),
        "frameworks": {
            "torch": {"status": "finished", "steps": 120},
            "tensorflow": {"status": "stopped", "steps": 80},
        },
    }
    (run / "summary.json").write_text(json.dumps(summary))
    return run, trained


def test_export_model_after_a_run_exports_its_trained_weights(gui, win, qtbot, tmp_path):
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    run, trained = _fake_run(tmp_path)
    win.training.controller.run_dir = run
    out = tmp_path / "exported"
    texts = []

    def fill(dialog):
        assert isinstance(dialog, ExportDialog)
        texts.append(
            (
                dialog.use_trained.isChecked(),
                dialog.use_trained.isEnabled(),
                dialog.use_trained.text(),
            )
        )
        for name, box in dialog.boxes.items():
            box.setChecked(name == "safetensors")
        dialog.folder.setText(str(out))
        dialog.accept()

    seen = answer_modal(fill)
    assert win.training.export_model()
    assert seen
    checked, enabled, text = texts[0]
    assert checked and enabled
    assert (
        run.name in text
        and "PyTorch finished, 120 steps" in text
        and "TensorFlow stopped, 80 steps (weights of its last full epoch)" in text
    )
    qtbot.waitUntil(lambda: not win.training.exporter.busy, timeout=120_000)
    title, report = gui.messages[-1]
    assert title == "Export finished", report
    assert report.splitlines()[0].startswith(f"Weights: trained, from run {run.name}")
    state = load_file(str(out / "torch.safetensors"))
    kernel = next(v for k, v in state.items() if v.shape == (16, 2))
    np.testing.assert_allclose(kernel.T, trained["h1"]["kernel"], atol=1e-6)
    assert not {"torch", "tensorflow", "keras"} & set(sys.modules)


def test_export_model_offers_the_initial_weights_and_defaults_to_them_without_a_run(
    gui, win, qtbot, tmp_path
):
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    dialog = ExportDialog(win, trained_run=None)
    assert dialog.use_initial.isChecked() and not dialog.use_trained.isEnabled()
    assert dialog.weights_run() is None
    run, _ = _fake_run(tmp_path)
    win.training.controller.run_dir = run
    assert win.training.trained_run() == run
    dialog = ExportDialog(win, trained_run=run)
    assert dialog.weights_run() == run
    dialog.use_initial.setChecked(True)
    assert dialog.weights_run() is None
    out = tmp_path / "initial"
    assert win.training.start_export(win.training._checked_project()[0], out, ["safetensors"])
    qtbot.waitUntil(lambda: not win.training.exporter.busy, timeout=120_000)
    title, report = gui.messages[-1]
    assert title == "Export finished", report
    assert report.splitlines()[0].startswith("Weights: untrained initial weights")
    project = load_project_arg("xor_mlp")
    kernel = next(
        v for v in load_file(str(out / "torch.safetensors")).values() if v.shape == (16, 2)
    )
    np.testing.assert_allclose(
        kernel.T, init_weights(project, validate(project), 0)["h1"]["kernel"], atol=1e-6
    )
