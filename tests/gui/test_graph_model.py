"""The editing model without Qt: every edit, undo/redo and paste on a plain GraphModel.

(This folder's conftest loads Qt for the other tests; the subprocess check below is what
proves the model itself never needs it.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.spec.errors import SpecError
from engine.spec.project import INPUT_ID, read_project
from gui.graph_model import (
    BLOCK_GAP,
    CHANGED,
    MODIFIED,
    RESET,
    GraphModel,
    UndoHistory,
    new_project,
)
from gui.layout import BLOCK_W

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_model_loads_no_qt():
    code = (
        "import sys; import gui.graph_model; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def chain() -> GraphModel:
    """input -> d1 -> d2 -> d3, built with the model's own edits (history then cleared)."""
    model = GraphModel()
    model.load(new_project())  # as File > New does: the Input block gets its place
    prev = INPUT_ID
    for y in (150.0, 300.0, 450.0):
        prev = model.add_layer("Dense", (0.0, y), connect_from=prev)
    model.history.clear()
    return model


def undo_all(model: GraphModel) -> None:
    while model.history.can_undo():
        model.undo()


def test_add_connect_undo_redo_with_named_steps():
    model = GraphModel()
    events: list[str] = []
    model.subscribe(events.append)
    a = model.add_layer("Dense", (0.0, 150.0), connect_from=INPUT_ID)
    b = model.add_layer("Dropout", (400.0, 150.0))
    assert (a, b) == ("dense_1", "dropout_1")
    assert model.layer(b).inputs == []
    assert model.connect(a, b) is None
    assert model.layer(b).inputs == [a]
    assert model.connect(b, a) == f"connecting {b} -> {a} would form a cycle"
    history = model.history
    assert isinstance(history, UndoHistory)
    assert history.undo_text() == f"Connect {a} to {b}"
    assert events.count(CHANGED) == 3 and MODIFIED in events and model.is_modified
    model.undo()
    assert model.layer(b).inputs == [] and history.redo_text() == f"Connect {a} to {b}"
    undo_all(model)
    assert model.layers == [] and not model.is_modified
    model.redo()
    model.redo()
    assert [layer.id for layer in model.layers] == [a, b]
    assert model.analysis.blocks[a].output_shape is not None  # re-analysed after each step


def test_deleting_the_middle_of_a_chain_reconnects_it_and_undo_restores():
    model = chain()
    assert model.remove(["dense_2"])
    assert model.history.undo_text() == "Delete dense_2"
    assert not model.has("dense_2") and "dense_2" not in model.layout
    assert model.layer("dense_3").inputs == ["dense_1"]
    model.undo()
    assert model.layer("dense_2").inputs == ["dense_1"]
    assert model.layer("dense_3").inputs == ["dense_2"]
    model.redo()
    assert model.layer("dense_3").inputs == ["dense_1"]
    # Cutting a connection is not bridged: the reader just loses its input.
    assert model.remove([], [("dense_1", "dense_3")])
    assert model.layer("dense_3").inputs == []


def test_parameter_edits_validate_merge_and_undo():
    model = chain()
    with pytest.raises(SpecError):
        model.set_param("dense_1", "units", -3)
    with pytest.raises(SpecError):
        model.set_param("dense_1", "no_such_param", 1)
    assert not model.history.can_undo()
    before = dict(model.layer("dense_1").params)
    for units in (33, 34, 35):  # typing a value is one undo step
        assert model.set_param("dense_1", "units", units)
    assert not model.set_param("dense_1", "units", 35)  # no change, no step
    assert len(model.history.commands) == 1
    model.undo()
    assert model.layer("dense_1").params == before
    model.redo()
    assert model.layer("dense_1").params["units"] == 35
    model.set_param("dense_1", "activation", "tanh")
    assert model.reset_param("dense_1", "activation")
    assert "activation" not in model.layer("dense_1").params
    assert model.history.undo_text() == "Reset dense_1.activation"


def test_saving_marks_clean_and_undoing_past_it_marks_modified(tmp_path):
    model = chain()
    events: list[str] = []
    model.subscribe(events.append)
    model.set_param("dense_3", "units", 2)
    assert model.is_modified
    model.save(tmp_path / "chain.twintrain.json")
    assert not model.is_modified and model.path == (tmp_path / "chain.twintrain.json").resolve()
    model.undo()
    assert model.is_modified and events[-1] == MODIFIED
    model.redo()
    assert not model.is_modified
    reloaded = GraphModel()
    reloaded.subscribe(events.append)
    reloaded.load(read_project(tmp_path / "chain.twintrain.json"))
    assert events[-3:] == [RESET, CHANGED, MODIFIED]
    assert [layer.id for layer in reloaded.layers] == ["dense_1", "dense_2", "dense_3"]
    assert reloaded.position("dense_2") == model.position("dense_2")


def assert_no_overlaps(doc) -> None:
    ids = [INPUT_ID, *(layer.id for layer in doc.layers)]
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            (ax, ay), (bx, by) = doc.position(a), doc.position(b)
            apart = abs(ax - bx) >= BLOCK_W + BLOCK_GAP or abs(ay - by) >= 80.0 + BLOCK_GAP
            assert apart, f"{a} at {(ax, ay)} overlaps {b} at {(bx, by)}"


@pytest.mark.parametrize("kind", ["model", "document"])
def test_pasting_three_times_never_overlaps(kind, request):
    if kind == "document":  # the window's Document (Qt) must place pastes the same way
        request.getfixturevalue("qapp")
        from gui.document import Document

        doc = Document()
        doc.load(chain().file_project())
    else:
        doc = chain()
    payload = doc.copy_payload(["dense_2", "dense_3"])
    pasted = [doc.paste(payload) for _ in range(3)]
    assert [len(ids) for ids in pasted] == [2, 2, 2]
    assert len({lid for ids in pasted for lid in ids}) == 6  # fresh ids every time
    assert_no_overlaps(doc)
    for first, second in pasted:  # each copy keeps the pair's arrangement and connection
        assert doc.layer(second).inputs == [first]
        (fx, fy), (sx, sy) = doc.position(first), doc.position(second)
        assert (sx - fx, sy - fy) == (0.0, 150.0)
    doc.undo_stack.undo() if kind == "document" else doc.undo()
    assert len(doc.layers) == 7


def test_a_cut_block_pasted_back_returns_to_its_place():
    model = chain()
    payload = model.copy_payload(["dense_2"])
    spot = model.position("dense_2")
    model.remove(["dense_2"])
    assert model.paste(payload) == ["dense_2"]
    assert model.position("dense_2") == spot


def test_paste_ignores_foreign_clipboards():
    model = chain()
    assert model.paste({"format": "something else"}) == []
    assert model.paste({"format": "twintrain-blocks/1", "layers": [{"type": "Nope"}]}) == []
    assert not model.history.can_undo()
