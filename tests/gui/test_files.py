"""Project files through the window: round trips, layout, saving, closing, recent files,
autosave and recovery, and what `twintrain [FILE]` opens."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from engine.presets import DEFAULT_PRESET, list_presets, preset_path
from gui.autosave import leftovers
from gui.layout import ROW_PITCH

B = QMessageBox.StandardButton
PRESET_KEYS = [p.key for p in list_presets()]


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_preset_opened_and_saved_unchanged_round_trips_except_layout(gui, preset_copy, key):
    path = preset_copy(key)
    original = json.loads(path.read_text())
    assert gui.win.open_path(path)
    assert not gui.win.doc.is_modified
    assert gui.win.save()
    saved = json.loads(path.read_text())
    layout = saved.pop("layout")
    original.pop("layout", None)
    assert saved == original
    assert set(layout) == {"input", *(item["id"] for item in original["model"]["layers"])}


def test_file_without_layout_is_auto_arranged_top_to_bottom(gui, preset_copy):
    path = preset_copy("residual_mlp")
    assert "layout" not in json.loads(path.read_text())
    gui.win.open_path(path)
    doc = gui.win.doc
    ys = {
        lid: doc.position(lid)[1] for lid in ["input", "stem", "res1", "res2", "skip", "act", "out"]
    }
    assert ys == {
        "input": 0,
        "stem": ROW_PITCH,
        "res1": 2 * ROW_PITCH,
        "res2": 3 * ROW_PITCH,
        "skip": 4 * ROW_PITCH,
        "act": 5 * ROW_PITCH,
        "out": 6 * ROW_PITCH,
    }
    assert not doc.is_modified  # arranging a file on open is not an edit


def test_layout_is_saved_and_restored(gui, preset_copy):
    path = preset_copy("digits_cnn")
    win = gui.win
    win.open_path(path)
    win.doc.move({"fc1": (333.0, 444.0)})
    assert win.save()
    assert json.loads(path.read_text())["layout"]["fc1"] == [333, 444]
    win.new_project()
    win.open_path(path)
    assert win.doc.position("fc1") == (333.0, 444.0)
    assert win.scene.blocks["fc1"].pos().x() == 333.0


def test_graph_saves_inputs_only_where_needed(gui, tmp_path):
    win = gui.win
    win.new_project()
    doc = win.doc
    a = doc.add_layer("Dense", (0, 150), connect_from="input")
    b = doc.add_layer("Dense", (0, 300), connect_from=a)
    c = doc.add_layer("Add", (0, 450))
    doc.connect(a, c)
    doc.connect(b, c)
    doc.add_layer("Dense", (0, 600), connect_from=c)
    doc.set_param(a, "units", 4)
    doc.set_param(b, "units", 4)
    path = tmp_path / "graph.twintrain.json"
    assert win.save_to(path)
    layers = json.loads(path.read_text())["model"]["layers"]
    assert [item.get("inputs") for item in layers] == [None, None, [a, b], None]


def test_save_refused_for_unconnected_block_and_nothing_written(gui, preset_copy):
    path = preset_copy("digits_cnn")
    before = path.read_bytes()
    win = gui.win
    win.open_path(path)
    win.doc.add_layer("Dense", (600, 0))
    assert not win.save()
    title, message = gui.messages[-1]
    assert title == "Cannot save project"
    assert "layer 'dense_1'" in message and "inputs" in message
    assert path.read_bytes() == before
    assert win.doc.is_modified


def test_title_shows_file_name_and_unsaved_mark(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    assert win.windowTitle() == "digits_cnn.twintrain.json[*] — TwinTrain"
    assert not win.isWindowModified()
    win.doc.set_param("fc1", "units", 20)
    assert win.isWindowModified()
    win.act_undo.trigger()
    assert not win.isWindowModified()
    win.new_project()
    assert win.windowTitle() == "untitled (not saved)[*] — TwinTrain"


def test_closing_with_unsaved_changes_asks(gui, preset_copy):
    path = preset_copy("digits_cnn")
    win = gui.win
    win.open_path(path)
    win.doc.set_param("fc1", "units", 20)
    gui.answers = [B.Cancel]
    assert not win.close()
    assert win.isVisible()
    assert "Save the changes to digits_cnn.twintrain.json?" in gui.questions[-1]
    gui.answers = [B.Save]
    assert win.close()
    assert json.loads(path.read_text())["model"]["layers"][4]["units"] == 20


def test_discarding_on_close_writes_nothing(gui, preset_copy):
    path = preset_copy("digits_cnn")
    before = path.read_bytes()
    win = gui.win
    win.open_path(path)
    win.doc.set_param("fc1", "units", 20)
    gui.answers = [B.Discard]
    assert win.close()
    assert path.read_bytes() == before


def test_recent_files(gui, preset_copy):
    win = gui.win
    a, b = preset_copy("digits_cnn"), preset_copy("xor_mlp")
    win.open_path(a)
    win.open_path(b)
    assert win.recent.paths()[:2] == [b.resolve(), a.resolve()]
    win._fill_recent_menu()
    texts = [act.text() for act in win.recent_menu.actions()]
    assert texts[:2] == [str(b.resolve()), str(a.resolve())]
    win.recent_menu.actions()[1].trigger()
    assert win.doc.path == a.resolve()


def test_open_preset_menu_opens_an_unsaved_copy(gui):
    win = gui.win
    win._fill_preset_menu()
    action = next(act for act in win.preset_menu.actions() if act.text().startswith("sine_gru "))
    action.trigger()
    assert win.doc.project.name == "sine-gru"
    assert win.doc.path is None  # saving asks where: the bundled preset is never overwritten


def test_autosave_and_recovery_after_a_crash(gui, preset_copy, data_dir, qtbot):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    win.doc.set_param("fc1", "units", 21)
    win.doc.add_layer("Dropout", (500, 500))  # unconnected: a file could not hold it
    assert win.autosaver.timer.interval() == 60_000
    assert win.autosaver.save_if_needed()
    assert not win.autosaver.save_if_needed()  # nothing new since
    payload = json.loads(win.autosaver.file.read_text())
    # Pretend the process died: rename the file to a pid that is not running.
    dead = win.autosaver.file.with_name("autosave-999999999.json")
    win.autosaver.file.rename(dead)
    assert [r.file for r in leftovers(win.autosaver.directory)] == [dead]

    from gui.main_window import MainWindow

    fresh = MainWindow()
    qtbot.addWidget(fresh)
    asked = []
    fresh.ask = lambda title, text, buttons, default: (asked.append(text), B.Yes)[1]
    assert fresh.offer_recovery()
    assert "did not close normally" in asked[0] and "digits_cnn.twintrain.json" in asked[0]
    doc = fresh.doc
    assert doc.layer("fc1").params["units"] == 21
    assert doc.layer("dropout_1").inputs == []
    assert doc.is_modified
    assert doc.path == Path(payload["path"])
    assert not dead.exists()
    assert fresh.autosaver.file.exists()  # the recovered work is itself autosaved at once
    fresh.doc.undo_stack.setClean()
    fresh.doc._forced_dirty = False
    fresh.autosaver.discard()


def test_saving_removes_the_autosave(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    win.doc.set_param("fc1", "units", 22)
    win.autosaver.save_if_needed()
    assert win.autosaver.file.exists()
    win.save()
    assert not win.autosaver.file.exists()


def test_autosave_of_another_running_window_is_left_alone(data_dir):
    folder = data_dir / "autosave"
    folder.mkdir(parents=True)
    (folder / f"autosave-{os.getppid()}.json").write_text(
        json.dumps({"format": "twintrain-autosave/1"})
    )
    assert leftovers(folder) == []


def test_command_line_opens_default_preset_or_file(qtbot, preset_copy, tmp_path):
    from gui.app import create_window

    win = create_window([])
    qtbot.addWidget(win)
    assert win.doc.project.name == json.loads(preset_path(DEFAULT_PRESET).read_text())["name"]
    path = preset_copy("iris_logreg")
    win2 = create_window([str(path)])
    qtbot.addWidget(win2)
    assert win2.doc.path == path.resolve()
    win3 = create_window(["sine_lstm"])
    qtbot.addWidget(win3)
    assert win3.doc.project.name == "sine-lstm" and win3.doc.path is None


def test_file_output_rule_is_kept_for_out_of_order_layers(gui, tmp_path):
    """A file without 'output' means its last layer, even when that layer is listed before a
    layer that reads it; the editor keeps that meaning and saves it explicitly."""
    data = {
        "format": "twintrain/1",
        "model": {
            "input": {"shape": [2]},
            "layers": [
                {"id": "a", "type": "Dense", "units": 4},
                {"id": "c", "type": "Dense", "units": 2, "inputs": ["b"]},
                {"id": "b", "type": "Dense", "units": 2, "inputs": ["a"]},
            ],
        },
        "training": {"dataset": {"name": "xor"}},
    }
    path = tmp_path / "odd.twintrain.json"
    path.write_text(json.dumps(data))
    win = gui.win
    assert win.open_path(path, ask=False)
    assert win.doc.analysis.output_id == "b"
    assert "does not lead to the model output 'b'" in win.doc.analysis.blocks["c"].error
    assert win.save()
    saved = json.loads(path.read_text())["model"]
    assert [item["id"] for item in saved["layers"]] == ["a", "b", "c"]
    assert saved["output"] == "b"
