"""Build the digits CNN preset by hand, as a user would, and save it: same model as the preset."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF

from engine.presets import preset_path
from engine.spec import infer, read_project, resolve_training


def model_signature(project) -> dict:
    """The model as the engine sees it: ids, types, every parameter resolved, inputs, output."""
    return {
        "input": list(project.input_shape),
        "layers": [
            (layer.id, layer.type, layer.resolved(), project.inputs_of(i))
            for i, layer in enumerate(project.layers)
        ],
        "output": project.output_id,
        "training": resolve_training(project.training, "classification"),
    }


def test_build_digits_cnn_by_hand(gui, tmp_path):
    win = gui.win
    win.new_project()
    assert win.doc.layers == []
    # Project settings first: nothing selected, so the inspector edits the project.
    gui.click_empty()
    gui.set_field("name", "digits-cnn")
    gui.set_field("description", "LeNet-style CNN on the 8x8 digits bundled with scikit-learn")
    gui.set_field("model.input.shape", [8, 8, 1])
    gui.set_field("training.dataset.name", "digits")
    gui.set_field("training.dataset.validation_split", 0.2)
    gui.set_field("training.loss", "cross_entropy")
    gui.set_field("training.batch_size", 64)
    gui.set_field("training.seed", 0)
    gui.set_field("training.optimizer.learning_rate", 0.001)
    assert win.doc.project.input_shape == [8, 8, 1]

    plan = [
        (
            "conv1",
            "Conv2D",
            {"filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
        ),
        ("pool1", "MaxPool2D", {"pool_size": 2}),
        (
            "conv2",
            "Conv2D",
            {"filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
        ),
        ("flat", "Flatten", {}),
        ("fc1", "Dense", {"units": 32, "activation": "relu"}),
        ("out", "Dense", {"units": 10}),
    ]
    previous = "input"
    x0, y0 = win.doc.position("input")
    for row, (lid, type_name, params) in enumerate(plan, start=1):
        new = gui.drop(type_name, QPointF(x0 + 100, y0 + 150 * row + 30))
        assert win.scene.selected_ids() == [new]  # a dropped block is selected
        assert win.doc.analysis.blocks[new].error.startswith("input not connected")
        gui.connect(previous, new)
        assert win.doc.layer(new).inputs == [previous]
        gui.click_block(new)
        assert win.scene.selected_ids() == [new]
        gui.rename(lid)
        assert win.scene.selected_ids() == [lid]  # selection follows the rename
        for name, value in params.items():
            gui.set_field(name, value)
        previous = lid

    # Every block now has a shape; the figures on the canvas are the engine's.
    a = win.doc.analysis
    assert a.ok, a.project_errors
    assert a.blocks["conv1"].output_shape == (8, 8, 8)
    assert a.blocks["pool1"].output_shape == (4, 4, 8)
    assert a.blocks["conv2"].output_shape == (4, 4, 16)
    assert a.blocks["flat"].output_shape == (256,)
    assert a.blocks["out"].output_shape == (10,)
    assert a.params == 80 + 1168 + 8224 + 330
    assert win.scene.blocks["conv2"].content.lines[1] == "→ [4, 4, 16]"
    assert win.scene.edges[("flat", "fc1", 0)].label == "[256]"

    path = tmp_path / "built.twintrain.json"
    assert win.save_to(path)
    assert not win.doc.is_modified
    saved = read_project(path)
    preset = read_project(preset_path("digits_cnn"))
    assert model_signature(saved) == model_signature(preset)
    assert infer(saved).params == infer(preset).params == 9802
    # A plain stack is saved as one: no "inputs" needed, positions kept in layout.
    data = json.loads(path.read_text())
    assert all("inputs" not in layer for layer in data["model"]["layers"])
    assert set(data["layout"]) == {"input", "conv1", "pool1", "conv2", "flat", "fc1", "out"}
