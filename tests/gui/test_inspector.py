"""The inspector: forms generated from the registry, edits through the undo stack, errors
shown at the field that caused them."""

from __future__ import annotations

import pytest

from engine.data import catalog
from engine.spec.layer_types import LAYER_TYPES
from engine.spec.training import OPTIMIZER_PARAMS, TRAINING_PARAMS
from gui.fields import BoolField, ChoiceField, FloatField, IntField, PairField, ShapeField


@pytest.mark.parametrize("type_name", sorted(LAYER_TYPES))
def test_layer_form_is_generated_from_the_registry(gui, type_name):
    win = gui.win
    win.new_project()
    lid = win.append_layer(type_name)
    form = win.inspector.form
    lt = LAYER_TYPES[type_name]
    assert list(form.fields) == [p.name for p in lt.params]
    resolved = lt.resolve(win.doc.layer(lid).params)
    kinds = {
        "int": IntField,
        "float": FloatField,
        "bool": BoolField,
        "choice": ChoiceField,
        "int_or_pair": PairField,
        "shape": ShapeField,
    }
    for param in lt.params:
        field = form.fields[param.name]
        assert isinstance(field, kinds[param.kind])
        assert field.value == resolved.get(param.name)  # defaults and suggestions shown
        if param.kind == "int":
            assert field.spin.allowed[1] == min(int(param.maximum), 2**31 - 1)
        if param.kind == "choice":
            assert [field.combo.itemText(i) for i in range(field.combo.count())] == list(
                param.choices
            )


def test_project_form_lists_training_dataset_and_optimizer_params(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("moons_mlp"))
    gui.click_empty()
    fields = win.inspector.form.fields
    for p in TRAINING_PARAMS:
        assert f"training.{p.name}" in fields
    for p in catalog.COMMON + catalog.DATASET_PARAMS["moons"]:
        assert f"training.dataset.{p.name}" in fields
    for p in OPTIMIZER_PARAMS["adam"]:
        assert f"training.optimizer.{p.name}" in fields
    gui.set_field("training.optimizer.name", "sgd")
    fields = win.inspector.form.fields  # the form was rebuilt for SGD's parameters
    assert "training.optimizer.nesterov" in fields and "training.optimizer.beta_1" not in fields
    assert win.doc.project.training["optimizer"]["name"] == "sgd"
    gui.set_field("training.optimizer.momentum", 0.9)
    assert win.doc.project.training["optimizer"]["momentum"] == 0.9
    win.act_undo.trigger()
    win.act_undo.trigger()
    assert win.doc.project.training["optimizer"]["name"] == "adam"
    assert "training.optimizer.beta_1" in win.inspector.form.fields


def test_dataset_that_does_not_fit_is_flagged_at_once_and_fixed_with_one_click(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("moons_mlp"))
    gui.click_empty()
    assert win.doc.analysis.ok
    gui.set_field("training.dataset.name", "wine")
    field = gui.field("model.input.shape")
    assert field.error == (
        "input shape [2] does not fit dataset 'wine', which gives [13] per sample; "
        "set the input shape to [13]"
    )
    assert not win.inspector.form.use_dataset_shape.isHidden()
    win.inspector.form.use_dataset_shape.click()
    assert win.doc.project.input_shape == [13]
    # Now the output is wrong for wine's 3 classes, and the loss field says so.
    loss = gui.field("training.loss")
    assert "needs [3]" in loss.error
    assert gui.field("model.input.shape").error is None


def test_refused_values_are_shown_under_the_field_and_not_applied(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_mlp"))
    lid = win.append_layer("Dropout")
    count = win.doc.undo_stack.count()
    gui.set_field("rate", 1.0)  # the registry says: below 1
    assert gui.field("rate").error == "rate must be less than 1 (got 1)"
    assert win.doc.layer(lid).params["rate"] == 0.2
    assert win.doc.undo_stack.count() == count
    gui.set_field("rate", 0.5)
    assert gui.field("rate").error is None
    assert win.doc.layer(lid).params["rate"] == 0.5


def test_bad_id_is_refused_in_place(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("fc1")
    gui.rename("out")
    form = win.inspector.form
    assert form.id_error.text() == "id 'out' is already used by another layer"
    gui.rename("9lives")
    assert "not a valid id" in win.inspector.form.id_error.text()
    assert win.doc.has("fc1")
    gui.rename("hidden")
    assert win.doc.layer("out").inputs == ["hidden"]


def test_shape_error_marks_the_parameter_field(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("conv2")
    gui.set_field("padding", "valid")
    gui.set_field("kernel_size", 5)
    assert win.doc.layer("conv2").params["kernel_size"] == 5
    error = gui.field("kernel_size").error
    assert (
        error
        == "kernel_size 5 is larger than its input (4); use padding 'same' or a smaller kernel_size"
    )
    assert win.scene.blocks["conv2"].content.error == error
    gui.set_field("kernel_size", [3, 1])
    assert win.doc.layer("conv2").params["kernel_size"] == [3, 1]
    assert win.doc.analysis.blocks["conv2"].output_shape == (2, 4, 16)


def test_model_output_button(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_block("fc1")
    button = win.inspector.form.output_button
    assert button.isEnabled()
    button.click()
    assert win.doc.analysis.output_id == "fc1"
    assert win.scene.blocks["fc1"].content.is_output
    assert "does not lead to the model output 'fc1'" in win.doc.analysis.blocks["out"].error
    assert not win.inspector.form.output_button.isEnabled()


def test_int_field_step_and_float_field_text(gui, preset_copy):
    win = gui.win
    win.open_path(preset_copy("digits_cnn"))
    gui.click_empty()
    spin = gui.field("training.optimizer.epsilon").spin
    assert spin.text() == "1e-07"
    lr = gui.field("training.optimizer.learning_rate").spin
    lr.stepBy(1)
    assert win.doc.project.training["optimizer"]["learning_rate"] == pytest.approx(0.0011)
