"""Undo and redo of every kind of edit, through the window's actions."""

from __future__ import annotations

import copy

import pytest

from gui.document import Document


def snapshot(doc: Document) -> dict:
    return {
        "file": doc.file_project().to_dict(),
        "inputs": {layer.id: list(layer.inputs) for layer in doc.layers},
        "layout": copy.deepcopy(doc.layout),
    }


EDITS = {
    "add": lambda d: d.add_layer("Dense", (0, 900), connect_from="out"),
    "add unconnected": lambda d: d.add_layer("Dropout", (300, 300)),
    "delete block": lambda d: d.remove(["fc1"]),
    "delete connection": lambda d: d.remove([], [("flat", "fc1")]),
    "connect": lambda d: d.connect("conv1", "fc1"),
    "set param": lambda d: d.set_param("conv1", "filters", 12),
    "set pair param": lambda d: d.set_param("conv1", "kernel_size", [3, 5]),
    "reset param": lambda d: d.reset_param("conv1", "padding"),
    "rename": lambda d: d.rename("conv1", "stem"),
    "move": lambda d: d.move({"conv1": (500.0, 40.0)}),
    # The move is the starting point (stack cleared); only the arrange is undone.
    "auto-arrange": lambda d: (
        d.move({"conv1": (900.0, 900.0)}),
        d.undo_stack.clear(),
        d.arrange(),
    ),
    "set output": lambda d: d.set_output("fc1"),
    "input shape": lambda d: d.set_input_shape([4, 4, 1]),
    "training value": lambda d: d.set_training(("batch_size",), 16),
    "optimizer value": lambda d: d.set_training(("optimizer", "learning_rate"), 0.01),
    "dataset": lambda d: d.set_dataset("iris"),
    "optimizer": lambda d: d.set_optimizer("sgd"),
    "name": lambda d: d.set_meta("name", "renamed"),
    "paste": lambda d: d.paste(d.copy_payload(["fc1", "out"])),
}


@pytest.mark.parametrize("kind", list(EDITS))
def test_undo_redo_each_kind_of_edit(gui, preset_copy, kind):
    win = gui.win
    assert win.open_path(preset_copy("digits_cnn"))
    doc = win.doc
    EDITS[kind](doc)
    before_count = doc.undo_stack.count()
    assert before_count >= 1
    after = snapshot(doc)
    # Undo everything this edit pushed, with the window's action.
    start = snapshot(doc)
    while doc.undo_stack.canUndo():
        win.act_undo.trigger()
    original = snapshot(doc)
    assert original != after, "the edit changed nothing"
    while doc.undo_stack.canRedo():
        win.act_redo.trigger()
    assert snapshot(doc) == start
    # The canvas follows: one block item per layer (+ the input), one edge per input.
    assert set(win.scene.blocks) == {"input", *(layer.id for layer in doc.layers)}
    assert len(win.scene.edges) == sum(len(layer.inputs) for layer in doc.layers)


def test_undo_restores_exact_values(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    doc = win.doc
    gui.click_block("conv2")
    gui.set_field("filters", 32)
    assert doc.layer("conv2").params["filters"] == 32
    assert doc.analysis.blocks["conv2"].params == 3 * 3 * 8 * 32 + 32
    assert gui.field("filters").spin.value() == 32
    win.act_undo.trigger()
    assert doc.layer("conv2").params["filters"] == 16
    assert doc.analysis.blocks["conv2"].params == 1168
    assert gui.field("filters").spin.value() == 16  # the inspector follows undo
    win.act_redo.trigger()
    assert doc.layer("conv2").params["filters"] == 32
    assert not doc.undo_stack.canRedo()


def test_consecutive_edits_of_one_field_merge(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("fc1")
    for units in (33, 34, 35):
        gui.set_field("units", units)
    assert win.doc.undo_stack.count() == 1
    win.act_undo.trigger()
    assert win.doc.layer("fc1").params["units"] == 32


def test_cutting_the_chain_turns_downstream_red_and_undo_restores(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    doc = win.doc
    assert doc.analysis.ok
    win.scene.clearSelection()
    win.scene.edges[("pool1", "conv2", 0)].setSelected(True)
    win.act_delete.trigger()
    a = doc.analysis
    assert a.blocks["conv2"].error.startswith("input not connected")
    for lid in ("flat", "fc1", "out"):
        assert a.blocks[lid].error and a.blocks[lid].waiting, lid
    assert "conv2" in a.blocks["flat"].error
    # pool1 still has a shape but now leads nowhere: the engine says so.
    assert a.blocks["pool1"].output_shape == (4, 4, 8)
    assert "does not lead to the model output 'out'" in a.blocks["pool1"].error
    block = win.scene.blocks["conv2"].content
    assert block.error == a.blocks["conv2"].error  # shown on the block (red) and its tooltip
    assert a.blocks["conv2"].error in win.scene.blocks["conv2"].toolTip()
    gui.click_block("conv2")
    assert gui.win.inspector.form.error_box.text() == a.blocks["conv2"].error
    assert "problem" in win.summary.text()

    win.act_undo.trigger()
    assert doc.layer("conv2").inputs == ["pool1"]
    assert doc.analysis.ok
    assert all(not b.content.error for b in win.scene.blocks.values())
    assert ("pool1", "conv2", 0) in win.scene.edges


def test_delete_block_whose_input_does_not_fit_leaves_the_reader_red(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_autoencoder"))
    doc = win.doc
    assert doc.analysis.ok
    gui.click_block("dec2")
    win.act_delete.trigger()  # out reshapes 64 values to 8x8x1: dec1's 32 do not fit, no bridge
    assert not doc.has("dec2")
    a = doc.analysis
    assert doc.layer("out").inputs == []
    assert a.blocks["out"].error.startswith("input not connected")
    # dec1 still has a shape but now leads nowhere: the engine says so.
    assert a.blocks["dec1"].output_shape == (32,)
    assert "does not lead to the model output 'out'" in a.blocks["dec1"].error

    win.act_undo.trigger()
    assert doc.has("dec2")
    assert doc.layer("out").inputs == ["dec2"]
    assert doc.analysis.ok
    assert all(not b.content.error for b in win.scene.blocks.values())
    assert ("dec2", "out", 0) in win.scene.edges


def test_cycle_and_self_connections_are_refused_with_a_message(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    notes = []
    win.scene.message.connect(notes.append)
    count = win.doc.undo_stack.count()
    gui.connect("out", "conv1")
    assert win.doc.layer("conv1").inputs == ["input"]
    assert notes and "cycle" in notes[-1]
    assert win.doc.undo_stack.count() == count
