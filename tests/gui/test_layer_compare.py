"""Run > Compare Layers with the real workers: the blocks tinted by how far two columns part,
the first divergent one selected with its figures and cause in the inspector, and the result
dropped by any edit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from engine.presets import preset_path
from engine.spec.project import INPUT_ID
from gui.run.layer_compare import TINTS


def _open(win, preset: str):
    win.ask = lambda *_args: QMessageBox.StandardButton.Discard
    assert win.open_path(preset_path(preset), ask=False)
    return win.training.compare


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_compare_layers_tints_blocks_and_explains_the_first_divergent(win, qtbot):
    compare = _open(win, "breast_cancer_bn")  # Dense, BatchNorm, Activation, Dropout, Dense
    assert compare.start()
    assert not compare.action.isEnabled()  # one comparison at a time
    qtbot.waitUntil(lambda: compare.task is None, timeout=300_000)
    res = win.doc.comparison
    assert res is not None and res["frameworks"] == ["torch", "tensorflow"]
    assert res["first_divergent_layer"] == "drop"
    blocks = win.scene.blocks
    assert blocks["drop"].divergence[0] == TINTS["known"][0]
    assert blocks["out"].divergence[0] == TINTS["follows"][0]  # downstream of the masks
    assert "Dropout draws its own random mask" in blocks["drop"].toolTip()
    assert win.scene.selected_ids() == ["drop"]
    win.inspector.show_selection(["drop"], [])
    text = win.inspector.form.stats.text()
    assert "TensorFlow/Keras vs PyTorch: differs for a known reason" in text
    assert "(the first divergent layer)" in text and "why: Dropout draws" in text
    assert compare.legend.isVisible() and "unexplained" in compare.legend.text()
    # An edit makes the figures stale: every tint goes.
    win.doc.set_training(("epochs",), 3)
    assert win.doc.comparison is None and not compare.legend.isVisible()
    assert all(b.divergence is None for b in blocks.values())


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_parity_rows_link_compares_where_the_curves_parted(win, qtbot):
    """A matched model stays green everywhere, also on a replayed batch; the dashboard's
    'first divergent step' row links to the comparison of the pair that parted."""
    compare = _open(win, "digits_cnn")
    table = win.training.dashboard.table
    parity = {
        "reference": "torch",
        "max_loss_abs_diff": 0.2,
        "first_divergent_step": 3,
        "pairs": {"tensorflow": {"max_loss_abs_diff": 0.2, "first_divergent_step": 3}},
    }
    table.fill({}, parity, [], [])
    assert table.text("First divergent step", 0).startswith("3 · Where do they part?")
    row = table.row(table.item(table.rowCount() - 3, 0))
    assert table.verticalHeaderItem(row).text() == "First divergent step"
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert compare.task is not None and "on batch 3" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: compare.task is None, timeout=300_000)
    res = win.doc.comparison
    assert res["frameworks"] == ["torch", "tensorflow"] and res["step"] == 2
    assert res["first_divergent_layer"] is None
    layers = {lid: b for lid, b in win.scene.blocks.items() if lid != INPUT_ID}
    assert {b.divergence[0] for b in layers.values()} == {TINTS["ok"][0]}
    assert win.scene.blocks[INPUT_ID].divergence is None  # the input is no layer
    assert "every layer within tolerance" in win.statusBar().currentMessage()


def test_one_column_ticked_asks_for_two(gui):
    training = gui.win.training
    training.dashboard.framework_boxes["tensorflow"].setChecked(False)
    assert not training.compare.start()
    ((title, text),) = gui.messages
    assert title == "Two columns to compare"
    assert "Tick two columns above the plots" in text
