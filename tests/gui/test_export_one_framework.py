"""Export Model after a run of one framework: the other framework's formats cannot come from
that run's trained weights, so they are unticked and disabled with the reason, instead of being
listed as failed after the export."""

from __future__ import annotations

import numpy as np

from engine.trained_weights import save_weights
from gui.run.export_actions import ExportDialog


def test_formats_of_an_untrained_framework_are_off_with_the_reason(qtbot, tmp_path):
    run = tmp_path / "run"
    save_weights({"h1": {"kernel": np.zeros((2, 2), np.float32)}}, run / "weights" / "torch.npz")
    dialog = ExportDialog(trained_run=run)
    qtbot.addWidget(dialog)
    assert dialog.use_trained.isChecked()
    off = {name for name, box in dialog.boxes.items() if not box.isEnabled()}
    assert off == {"keras", "savedmodel", "tflite"}  # ONNX: PyTorch writes its own
    assert not any(dialog.boxes[name].isChecked() for name in off)
    assert "TensorFlow" in dialog.boxes["keras"].toolTip()
    assert not dialog.missing_note.isHidden()
    assert "trained only PyTorch" in dialog.missing_note.text()
    assert dialog.formats() == ["safetensors", "pt2", "torchscript", "onnx", "code"]

    dialog.use_initial.setChecked(True)  # the initial weights exist for every framework
    assert all(box.isEnabled() and box.isChecked() for box in dialog.boxes.values())
    assert dialog.missing_note.isHidden()
    assert "keras" in dialog.formats()


def test_a_run_of_both_frameworks_offers_every_format(qtbot, tmp_path):
    run = tmp_path / "run"
    for fw in ("torch", "tensorflow"):
        save_weights(
            {"h1": {"kernel": np.zeros((2, 2), np.float32)}}, run / "weights" / f"{fw}.npz"
        )
    dialog = ExportDialog(trained_run=run)
    qtbot.addWidget(dialog)
    assert all(box.isEnabled() and box.isChecked() for box in dialog.boxes.values())
    assert dialog.missing_note.isHidden()
