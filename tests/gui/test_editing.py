"""Editing details (issue 14, points 16-21): the empty-canvas hint, where appended blocks go,
out-of-range values, what a refused Train points at, deleting inside a chain, and the Undo/Redo
and palette texts."""

from __future__ import annotations

from itertools import combinations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui.inspector import ProjectForm


def _block_rects(win):
    return {lid: item.sceneBoundingRect() for lid, item in win.scene.blocks.items()}


def _double_click_palette(win, type_name: str) -> None:
    tree = win.layers_panel.tree
    (item,) = [
        it
        for it in tree.findItems(type_name, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
    ]
    tree.scrollToItem(item)
    point = tree.visualItemRect(item).center()
    QTest.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
    QTest.mouseDClick(
        tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )


def _type_into_spin(spin, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, text)
    QTest.keyClick(spin, Qt.Key.Key_Return)


# ---- 16: the hint on an empty canvas --------------------------------------------------------


def test_new_project_hint_does_not_cover_the_input_block(gui, qtbot):
    win = gui.win
    win.act_new.trigger()
    qtbot.wait(20)  # the view fits itself once the new project is shown
    hint = win.view.hint_rect()
    assert hint is not None and not hint.isEmpty()
    for lid, rect in _block_rects(win).items():
        assert not hint.intersects(rect), lid
    visible = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    assert visible.contains(hint)  # and it is on screen
    win.append_layer("Dense")
    assert win.view.hint_rect() is None  # gone once there is a layer


# ---- 17: double-click appends never overlap ---------------------------------------------------


def test_double_click_append_in_the_middle_of_a_chain_finds_a_free_spot(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    for _ in range(2):
        gui.click_block("pool1")
        before = {layer.id for layer in win.doc.layers}
        _double_click_palette(win, "Dense")
        (new,) = {layer.id for layer in win.doc.layers} - before
        assert win.doc.layer(new).inputs == ["pool1"]
        for (a, ra), (b, rb) in combinations(_block_rects(win).items(), 2):
            assert not ra.intersects(rb), (a, b)


def test_dropping_onto_a_block_moves_the_new_one_aside(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    new = gui.drop("Dense", win.scene.blocks["conv2"].sceneBoundingRect().center())
    rects = _block_rects(win)
    assert not any(rects[new].intersects(r) for lid, r in rects.items() if lid != new)


# ---- 18: out-of-range values ------------------------------------------------------------------


def test_typing_zero_units_says_the_range_and_stays_red_until_fixed(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("fc1")
    field = gui.field("units")
    count = win.doc.undo_stack.count()
    _type_into_spin(field.spin, "0")
    assert field.error == "units must be at least 1 (got 0)"
    assert field.spin.property("error") is True and field.error_label.isVisible()
    assert field.spin.text() == "0"  # what the user typed stays, not a silent 32
    assert win.doc.layer("fc1").params["units"] == 32
    assert win.doc.undo_stack.count() == count
    gui.set_field("activation", "tanh")  # another edit re-reads the form: still red
    field = gui.field("units")
    assert field.error == "units must be at least 1 (got 0)" and field.spin.text() == "0"
    _type_into_spin(field.spin, "64")
    assert field.error is None and field.spin.property("error") is False
    assert win.doc.layer("fc1").params["units"] == 64
    field.spin.stepBy(-1000)  # the arrows stop at the smallest allowed value
    assert field.spin.value() == 1 and field.error is None


# ---- 19: what a refused Train points at -------------------------------------------------------


def test_train_refused_by_a_project_setting_names_and_shows_the_field(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("out")
    gui.set_field("units", 2)  # digits has 10 classes: the loss cannot use 2 outputs
    assert not any(b.content.error for b in win.scene.blocks.values())  # no block is red
    assert win.training.train() is False
    title, text = gui.messages[-1]
    assert "Training › Loss" in text and "Fix the red block or field" not in text
    assert win.scene.selected_ids() == []
    form = win.inspector.form
    assert isinstance(form, ProjectForm)
    assert "10" in form.fields["training.loss"].error  # the field is red, with the reason


def test_train_refused_for_an_empty_network_says_what_to_add(gui):
    win = gui.win
    win.act_new.trigger()
    assert win.training.train() is False
    title, text = gui.messages[-1]
    assert "add a layer from the Layers panel" in text
    assert "2 units" in text  # File > New trains on moons: two classes


# ---- 20: deleting inside a chain ----------------------------------------------------------------


def test_deleting_the_middle_of_a_chain_reconnects_it_in_one_undo_step(gui):
    win = gui.win
    win.act_new.trigger()
    a, b, c = (win.append_layer("Dense") for _ in range(3))
    doc = win.doc
    assert doc.layer(c).inputs == [b]
    count = doc.undo_stack.count()
    gui.click_block(b)
    win.act_delete.trigger()
    assert not doc.has(b) and doc.layer(c).inputs == [a]
    assert (a, c, 0) in win.scene.edges
    assert not any(info.error for info in doc.analysis.blocks.values())
    assert doc.undo_stack.count() == count + 1
    win.act_undo.trigger()
    assert doc.has(b) and doc.layer(b).inputs == [a] and doc.layer(c).inputs == [b]
    assert {(a, b, 0), (b, c, 0)} <= set(win.scene.edges)
    win.act_redo.trigger()
    assert not doc.has(b) and doc.layer(c).inputs == [a]


def test_delete_bridges_only_where_the_shapes_fit(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("residual_mlp"))
    doc = win.doc
    gui.click_block("stem")
    win.act_delete.trigger()
    assert doc.layer("res1").inputs == ["input"]  # Dense takes the 13 inputs
    assert doc.layer("skip").inputs == ["res2"]  # Add cannot add [13] to [32]
    assert doc.analysis.blocks["skip"].error


# ---- 21: Undo/Redo texts and the palette's empty filter ---------------------------------------


def test_undo_and_redo_menu_items_name_the_action(gui):
    win = gui.win
    win.act_new.trigger()
    assert win.act_undo.text() == "&Undo" and not win.act_undo.isEnabled()
    lid = win.append_layer("Dense")
    assert win.act_undo.text() == "&Undo Add Dense"
    assert win.act_undo.toolTip().startswith("Undo Add Dense (")
    win.act_delete.trigger()
    assert win.act_undo.text() == f"&Undo Delete {lid}"
    win.act_undo.trigger()
    assert win.act_redo.text() == f"&Redo Delete {lid}"
    assert win.act_undo.text() == "&Undo Add Dense"
    edit_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Edit")
    assert f"&Redo Delete {lid}" in [a.text() for a in edit_menu.actions()]
    gui.click_block(lid)
    gui.set_field("units", 8)
    assert win.act_undo.text() == f"&Undo Set {lid}.units"
    assert win.act_redo.text() == "&Redo"
    stack = win.doc.undo_stack
    assert all(stack.text(i) for i in range(stack.count()))


def test_palette_filter_says_when_nothing_matches(gui):
    palette = gui.win.layers_panel
    palette.filter.setText("no such layer zzz")
    assert palette.visible_types() == []
    assert not palette.no_match.isHidden() and "No matching layer" in palette.no_match.text()
    palette.filter.setText("dense")
    assert palette.visible_types() and palette.no_match.isHidden()
