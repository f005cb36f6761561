"""The canvas: what blocks and edges show, and the gestures and actions that edit them."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from gui.formatting import count_text
from gui.main_window import BLOCKS_MIME


def test_blocks_show_type_key_params_shape_and_counts(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    conv1 = win.scene.blocks["conv1"].content
    assert (conv1.title, conv1.lid) == ("Conv2D", "conv1")
    assert conv1.lines == (
        "filters 8 · kernel 3 · same · relu",
        "→ [8, 8, 8]",
        "80 params · 4.6K MACs",
    )
    fc1 = win.scene.blocks["fc1"].content
    assert fc1.lines == ("units 32 · relu", "→ [32]", "8.2K params · 8.2K MACs")
    assert win.scene.blocks["out"].content.is_output
    assert not win.scene.blocks["fc1"].content.is_output
    inp = win.scene.blocks["input"].content
    assert inp.lines[1] == "[8, 8, 1]" and inp.lines[2] == "digits: 1,797 samples"
    labels = {key: edge.label for key, edge in win.scene.edges.items()}
    assert labels == {
        ("input", "conv1", 0): "[8, 8, 1]",
        ("conv1", "pool1", 0): "[8, 8, 8]",
        ("pool1", "conv2", 0): "[4, 4, 8]",
        ("conv2", "flat", 0): "[4, 4, 16]",
        ("flat", "fc1", 0): "[256]",
        ("fc1", "out", 0): "[32]",
    }
    assert "9,802" in win.summary.text()
    assert "output [10]" in win.summary.text()


def test_edits_update_blocks_and_edges_live(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("conv1")
    gui.set_field("filters", 4)
    assert win.scene.blocks["conv1"].content.lines[1] == "→ [8, 8, 4]"
    assert win.scene.edges[("conv1", "pool1", 0)].label == "[8, 8, 4]"
    assert win.scene.edges[("flat", "fc1", 0)].label == "[256]"
    assert win.scene.blocks["conv2"].content.lines[2].startswith("592 params")
    gui.set_field("padding", "valid")
    assert win.scene.blocks["conv1"].content.lines[1] == "→ [6, 6, 4]"
    assert win.scene.edges[("flat", "fc1", 0)].label == "[144]"


def test_summary_shows_framework_difference(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("breast_cancer_bn"))
    a = win.doc.analysis
    assert a.torch_params != a.params
    text = win.summary.text()
    assert f"<b>{a.params:,}</b> parameters in Keras, <b>{a.torch_params:,}</b> in PyTorch" in text
    assert "buffers" in text
    (lid, keras, torch, _why) = a.differences()[0]
    assert (
        win.scene.blocks[lid]
        .content.lines[2]
        .startswith(f"{count_text(keras)} params (PyTorch {count_text(torch)})")
    )


def test_multi_input_merge_accepts_several_connections(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("residual_mlp"))
    doc = win.doc
    assert doc.layer("skip").inputs == ["stem", "res2"]
    gui.connect("res1", "skip")
    assert doc.layer("skip").inputs == ["stem", "res2", "res1"]
    assert {k for k in win.scene.edges if k[1] == "skip"} == {
        ("stem", "skip", 0),
        ("res2", "skip", 1),
        ("res1", "skip", 2),
    }
    # A one-input block swaps its input instead.
    gui.connect("stem", "out")
    assert doc.layer("out").inputs == ["stem"]


def test_drag_from_input_port_to_a_block_output(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    lid = win.doc.add_layer("Dense", (400, 150))
    blocks = win.scene.blocks
    win.view.centerOn(blocks[lid])
    gui.drag(blocks[lid].in_point(), blocks["flat"].sceneBoundingRect().center())
    assert win.doc.layer(lid).inputs == ["flat"]


def test_moving_a_block_is_one_undo_step(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    item = win.scene.blocks["fc1"]
    start = win.doc.position("fc1")
    win.view.centerOn(item)
    grab = item.mapToScene(QPointF(60, 50))
    gui.drag(grab, grab + QPointF(120, 10))
    x, y = win.doc.position("fc1")
    assert (round(x - start[0]), round(y - start[1])) == (120, 10)
    assert win.doc.undo_stack.count() == 1
    win.act_undo.trigger()
    assert win.doc.position("fc1") == start
    assert item.pos() == QPointF(*start)


def test_rubber_band_selection(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    blocks = win.scene.blocks
    win.view.zoom_fit()
    a = blocks["conv1"].sceneBoundingRect().topLeft() + QPointF(-60, -20)
    b = blocks["pool1"].sceneBoundingRect().bottomRight() + QPointF(60, 5)
    gui.drag(a, b)
    assert set(win.scene.selected_ids()) == {"conv1", "pool1"}


def test_copy_paste_delete_select_all(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    win.scene.select_only(["fc1", "out"])
    win.act_copy.trigger()
    payload = json.loads(bytes(QGuiApplication.clipboard().mimeData().data(BLOCKS_MIME)).decode())
    assert [item["id"] for item in payload["layers"]] == ["fc1", "out"]
    win.act_paste.trigger()
    doc = win.doc
    assert set(win.scene.selected_ids()) == {"dense_1", "dense_2"}
    assert doc.layer("dense_1").params == {"units": 32, "activation": "relu"}
    assert doc.layer("dense_2").inputs == ["dense_1"]  # the connection among copies is kept
    assert doc.layer("dense_1").inputs == []  # the one from outside is not
    # The copies keep their arrangement and land on free canvas, not on the originals.
    (x1, y1), (x2, y2) = doc.position("dense_1"), doc.position("dense_2")
    (fx, fy), (ox, oy) = doc.position("fc1"), doc.position("out")
    assert (x2 - x1, y2 - y1) == (ox - fx, oy - fy)
    assert not doc.overlaps((x1, y1), ignore={"dense_1"})
    win.act_delete.trigger()
    assert not doc.has("dense_1") and not doc.has("dense_2")
    win.act_select_all.trigger()
    assert set(win.scene.selected_ids()) == {
        "input",
        "conv1",
        "pool1",
        "conv2",
        "flat",
        "fc1",
        "out",
    }
    win.act_delete.trigger()  # the Input block is never deleted
    assert doc.layers == [] and "input" in win.scene.blocks
    win.act_undo.trigger()
    assert len(doc.layers) == 6


def test_cut_removes_and_paste_restores(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    win.scene.select_only(["flat"])
    win.act_cut.trigger()
    assert not win.doc.has("flat")
    win.act_paste.trigger()
    assert win.doc.has("flat")  # its id was free again


def test_delete_a_connection(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    win.scene.clearSelection()
    win.scene.edges[("flat", "fc1", 0)].setSelected(True)
    assert "carrying [256]" in win.inspector.form.text.text()
    win.act_delete.trigger()
    assert win.doc.layer("fc1").inputs == []
    assert ("flat", "fc1", 0) not in win.scene.edges


def test_zoom_and_fit(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    view = win.view
    z = view.zoom
    win.act_zoom_in.trigger()
    assert abs(view.zoom - z * 1.25) < 1e-9
    win.act_zoom_out.trigger()
    win.act_zoom_out.trigger()
    assert abs(view.zoom - z / 1.25) < 1e-9
    win.act_fit.trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in win.scene.blocks.values():
        assert visible.contains(item.sceneBoundingRect()), item.lid
    QTest.keyClick(view.viewport(), Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)


def test_auto_arrange_puts_inputs_above_users(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("circles_concat"))
    doc = win.doc
    for layer in doc.layers:
        doc.move({layer.id: (0.0, 0.0)})
    win.act_arrange.trigger()
    for layer in doc.layers:
        for ref in layer.inputs:
            assert doc.position(ref)[1] < doc.position(layer.id)[1]
    positions = [doc.position(layer.id) for layer in doc.layers]
    assert len(set(positions)) == len(positions)  # no two blocks on one spot


def test_palette_filter_and_double_click_append(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    palette = win.layers_panel
    palette.filter.setText("pool")
    assert palette.visible_types() == [
        "MaxPool2D",
        "AvgPool2D",
        "MaxPool1D",
        "AvgPool1D",
        "GlobalAvgPool2D",
        "GlobalAvgPool1D",
    ]
    palette.filter.setText("")
    assert len(palette.visible_types()) == 21
    win.scene.select_only(["out"])
    lid = win.append_layer("Dropout")
    assert win.doc.layer(lid).inputs == ["out"]
    assert win.doc.layer(lid).params == {"rate": 0.2}
    assert win.doc.analysis.output_id == lid
    assert win.scene.selected_ids() == [lid]


def test_palette_drag_carries_the_layer_type(gui):
    from gui.canvas.view import LAYER_MIME

    tree = gui.win.layers_panel.tree
    conv = tree.findItems("Conv2D", Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)[0]
    data = tree.mimeData([conv])
    assert bytes(data.data(LAYER_MIME)).decode() == "Conv2D"


def test_middle_button_pans(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    view, vp = win.view, win.view.viewport()
    before = view.mapToScene(vp.rect().center())
    start = vp.rect().center()
    QTest.mousePress(vp, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(-60, -40))
    QTest.mouseRelease(
        vp, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start + QPoint(-60, -40)
    )
    after = view.mapToScene(vp.rect().center())
    assert round((after - before).x() * view.zoom) == 60
    assert round((after - before).y() * view.zoom) == 40


def test_delete_key_on_canvas_but_not_in_text_fields(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("fc1")
    spin = win.inspector.form.fields["units"].spin
    spin.setFocus()
    spin.selectAll()
    QTest.keyClick(spin, Qt.Key.Key_Backspace)
    QTest.keyClick(spin, Qt.Key.Key_Delete)
    assert win.doc.has("fc1")  # the keys edited the field, not the network
    win.view.setFocus()
    QTest.keyClick(win.view.viewport(), Qt.Key.Key_Delete)
    assert not win.doc.has("fc1")


def test_a_dropped_block_does_not_take_over_the_output(gui, preset_copy, tmp_path):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    lid = gui.drop("Dense", QPointF(600, 200))
    a = win.doc.analysis
    assert a.output_id == "out"
    assert [k for k, b in a.blocks.items() if b.error] == [lid]  # only the new block is red
    assert a.blocks[lid].error.startswith("input not connected")
    assert win.scene.blocks["input"].content.lines[2] == "digits: 1,797 samples"
    gui.connect("out", lid)  # connected below the output: now it is the output
    assert win.doc.analysis.output_id == lid
    assert all(b.error is None for b in win.doc.analysis.blocks.values())
    # Saved with the output implied (the last layer) or named, whichever the file needs.
    path = tmp_path / "p.twintrain.json"
    win.doc.connect("fc1", lid)  # now a side branch beside 'out', listed last
    assert win.doc.analysis.output_id == lid
    assert win.save_to(path)
    assert "output" not in json.loads(path.read_text())["model"]
    win.doc.set_output("out")
    assert win.save_to(path)
    assert json.loads(path.read_text())["model"]["output"] == "out"
    win.open_path(path)
    assert win.doc.analysis.output_id == "out"


def test_output_stays_put_for_side_branches_and_follows_extensions(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    doc = win.doc
    side = doc.add_layer("Dropout", (600, 300))
    doc.connect("conv2", side)  # a branch off the middle: the output stays on 'out'
    assert doc.analysis.output_id == "out"
    doc.remove([side])
    below = win.append_layer("Dropout")  # appended below the output: it becomes the output
    assert doc.layer(below).inputs == ["out"]
    assert doc.analysis.output_id == below
    win.act_undo.trigger()
    assert doc.analysis.output_id == "out"
    doc.rename("out", "logits")
    assert doc.analysis.output_id == "logits"
