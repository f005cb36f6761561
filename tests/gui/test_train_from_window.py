"""Train from the main window: F5 starts both frameworks, the canvas locks, the run is kept."""

from __future__ import annotations

import sys

from engine.presets import preset_path

RUN_TIMEOUT_MS = 120_000


def test_train_xor_from_the_window(gui, win, qtbot):
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    training = win.training
    layer = win.doc.layers[0].id
    gui.click_empty()
    # two epochs keep the test short; the inspector edits the project like a user would
    gui.set_field("training.epochs", 2)
    assert win.doc.project.training["epochs"] == 2
    assert training.act_train.isEnabled() and not training.act_stop.isEnabled()
    training.act_train.trigger()
    c = training.controller
    assert c.running
    assert training.locked and training.lock_banner.isVisible()
    assert not win.layers_panel.isEnabled() and not win.inspector.isEnabled()
    assert not win.act_delete.isEnabled() and training.act_stop.isEnabled()
    before = win.doc.project.to_dict()
    win.doc.remove([layer])  # the document itself still edits; the run keeps its frozen copy
    assert c.session.project.layers[0].id == layer
    win.doc.undo_stack.undo()
    assert win.doc.project.to_dict() == before
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    assert not training.locked and not training.lock_banner.isVisible()
    assert win.layers_panel.isEnabled() and training.act_train.isEnabled()
    for fw in ("torch", "tensorflow"):
        xs, _ = training.dashboard.plots.curves[(fw, "loss")].getData()
        assert len(xs) == 50
    assert training.splitter.sizes()[1] > 0  # the dashboard opened
    assert c.run_dir in training.runs.folders()
    # The run keeps its trained weights, so File > Export Model… exports them by default.
    assert (c.run_dir / "weights" / "torch.npz").is_file() and (
        c.run_dir / "weights" / "tensorflow.npz"
    ).is_file()
    assert training.trained_run() == c.run_dir
    assert not {"torch", "tensorflow", "keras"} & set(sys.modules)


def test_train_refuses_an_invalid_project(gui, win):
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    gui.click_block("h1")
    gui.set_field("units", 3)
    gui.click_block("out")
    win.doc.set_param("out", "units", 5)  # 5 logits for a 2-class dataset
    assert win.training.train() is False
    assert not win.training.controller.running
    title, text = gui.messages[-1]
    assert title == "Cannot train yet"
    assert "output 'out'" in text and "[5]" in text and "[2]" in text


def test_export_code_and_models_from_the_window(gui, win, qtbot, tmp_path):
    import json

    assert win.open_path(preset_path("iris_logreg"), ask=False)
    (tmp_path / "code_out").mkdir()
    written = win.training.export_code(tmp_path / "code_out")
    assert sorted(p.name for p in written) == ["model_keras.py", "model_torch.py"]
    assert "nn.Module" in (tmp_path / "code_out" / "model_torch.py").read_text()
    assert win.training.export_code(tmp_path / "code_out") == []  # never overwrites
    assert "already exist" in gui.messages[-1][1]
    out = tmp_path / "models"
    assert win.training.start_export(win.training._checked_project()[0], out, ["onnx", "keras"])
    qtbot.waitUntil(lambda: not win.training.exporter.busy, timeout=120_000)
    title, report = gui.messages[-1]
    assert title == "Export finished", report
    assert (
        "✓ torch onnx" in report
        and "✓ tensorflow keras" in report
        and "✓ tensorflow onnx" in report
    )
    manifest = json.loads((out / "exports.json").read_text())
    assert manifest["cross_check"]["ok"] is True
    assert not {"torch", "tensorflow", "keras"} & set(sys.modules)
