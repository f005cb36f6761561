"""Each bad input of the foundation issue, opened through the GUI.

Files the loader refuses: a dialog with the engine's message, and the open project stays as
it was (and the file on disk is untouched). Files that load but describe a broken network
(kernel too large, mismatched Add, dangling or cyclic inputs, input shape not fitting the
dataset) open so they can be fixed: the block or field at fault turns red with the message.
"""

from __future__ import annotations

import copy
import json

import pytest

from engine.presets import preset_path

BASE = json.loads(preset_path("digits_cnn").read_text())


def mutate(change) -> str:
    data = copy.deepcopy(BASE)
    change(data)
    return json.dumps(data)


def layer(data, lid):
    return next(item for item in data["model"]["layers"] if item["id"] == lid)


REFUSED = {
    "truncated JSON": (json.dumps(BASE)[:150], "not valid JSON"),
    "unknown format": (mutate(lambda d: d.update(format="twintrain/9")), "unknown format version"),
    "unknown layer type": (
        mutate(lambda d: layer(d, "conv1").update(type="Conv2d")),
        "did you mean 'Conv2D'",
    ),
    "unknown parameter": (
        mutate(lambda d: layer(d, "fc1").update(unit=3)),
        "unknown parameter 'unit'",
    ),
    "wrong value type": (
        mutate(lambda d: layer(d, "fc1").update(units="32")),
        "expected an integer",
    ),
    "negative size": (mutate(lambda d: layer(d, "fc1").update(units=-4)), "must be >= 1"),
    "zero size": (mutate(lambda d: layer(d, "conv1").update(filters=0)), "must be >= 1"),
    "bad input shape": (
        mutate(lambda d: d["model"]["input"].update(shape=[8, 0, 1])),
        "shape entries must be positive",
    ),
    "duplicate ids": (mutate(lambda d: layer(d, "fc1").update(id="out")), "duplicate id 'out'"),
    "not an object": ("[1, 2, 3]", "must hold a JSON object"),
    "empty file": ("", "not valid JSON"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_file_shows_message_and_keeps_project(gui, preset_copy, tmp_path, case):
    win = gui.win
    assert win.open_path(preset_copy("residual_mlp"))
    win.doc.set_param("res1", "units", 40)  # an unsaved edit that must survive
    before = win.doc.file_project().to_dict()
    path_before = win.doc.path
    text, expected = REFUSED[case]
    bad = tmp_path / "bad.twintrain.json"
    bad.write_text(text)
    gui.answers = []  # "save changes?" is not asked: ask=False, as from the Open dialog
    assert not win.open_path(bad, ask=False)
    assert len(gui.messages) == 1
    title, message = gui.messages[0]
    assert title == "Cannot open project"
    assert expected in message
    assert str(bad) in message  # the message names the file
    assert win.doc.file_project().to_dict() == before
    assert win.doc.path == path_before
    assert win.doc.is_modified
    assert bad.read_text() == text  # nothing on disk changes on a failed load


def test_missing_file_is_refused(gui, preset_copy, tmp_path):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    assert not win.open_path(tmp_path / "nope.twintrain.json", ask=False)
    assert "cannot read the file" in gui.messages[0][1]
    assert win.doc.path.name == "digits_cnn.twintrain.json"


OPENS_RED = {
    "kernel larger than input": (
        mutate(lambda d: layer(d, "conv2").update(kernel_size=7, padding="valid")),
        "conv2",
        "kernel_size",
        "larger than its input",
    ),
    "Add of mismatched shapes": (
        mutate(
            lambda d: d["model"]["layers"].append(
                {"id": "sum", "type": "Add", "inputs": ["fc1", "out"]}
            )
        ),
        "sum",
        "inputs",
        "Add needs inputs of one shape",
    ),
    "dangling input": (
        mutate(lambda d: layer(d, "fc1").update(inputs=["nowhere"])),
        "fc1",
        "inputs",
        "input 'nowhere' names no layer",
    ),
    "cyclic inputs": (
        mutate(
            lambda d: (
                layer(d, "conv2").update(inputs=["fc1"]),
                layer(d, "flat").update(inputs=["conv2"]),
            )
        ),
        "conv2",
        "inputs",
        "cycle",
    ),
}


@pytest.mark.parametrize("case", list(OPENS_RED))
def test_broken_network_opens_with_red_block(gui, tmp_path, case):
    text, lid, field, expected = OPENS_RED[case]
    path = tmp_path / "broken.twintrain.json"
    path.write_text(text)
    win = gui.win
    assert win.open_path(path, ask=False)
    assert gui.messages == []
    info = win.doc.analysis.blocks[lid]
    assert expected in info.error
    assert info.field == field
    block = win.scene.blocks[lid]
    assert block.content.error == info.error  # red, message on hover
    assert expected in block.toolTip()
    gui.click_block(lid)
    form = win.inspector.form
    if field in form.fields:
        assert expected in form.fields[field].error
    else:
        assert expected in form.error_box.text()


def test_input_shape_not_fitting_dataset_is_flagged_in_project_form(gui, tmp_path):
    path = tmp_path / "misfit.twintrain.json"
    path.write_text(mutate(lambda d: d["training"]["dataset"].update(name="iris")))
    win = gui.win
    assert win.open_path(path, ask=False)
    gui.click_empty()
    field = gui.field("model.input.shape")
    assert "does not fit dataset 'iris'" in field.error
    assert "[4]" in field.error
    assert win.scene.blocks["input"].content.error == field.error
    button = win.inspector.form.use_dataset_shape
    assert not button.isHidden()
    assert button.text() == "Use [4] from the dataset"
