"""The inspector: edits the selected block, or the project when nothing is selected.

Both forms are generated from the registry's Param declarations (layer types, training,
dataset and optimizer parameters); edits go to the document, which puts them on the undo
stack. A refused value is shown under its field; the engine's errors about the network are
shown next to the field they name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.data import catalog
from engine.spec.errors import SpecError
from engine.spec.layer_types import LAYER_TYPES
from engine.spec.params import Param
from engine.spec.project import INPUT_ID
from engine.spec.training import OPTIMIZER_PARAMS, OPTIMIZERS, TRAINING_PARAMS
from gui import folders
from gui.dataset_preview import DatasetPreview
from gui.document import Document
from gui.fields import Field, label_for, make_field
from gui.formatting import shape_text

_SHAPE = Param("shape", "shape", doc="Shape of one sample, channels last (an image is H, W, C).")
_DATASET = Param(
    "name", "choice", "digits", choices=catalog.NAMES, doc="Where the training data comes from."
)
_OPTIMIZER = Param(
    "name", "choice", "adam", choices=OPTIMIZERS, doc="Optimizer, set the same in every framework."
)


DATA_FILTER = "Data (*.csv *.npz);;All files (*)"
BROWSE_FILTERS = {"text_csv": "CSV (*.csv);;All files (*)"}  # by dataset kind


def _label(text: str, name: str = "") -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(6)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return form


class _Form(QWidget):
    """Common parts: a vertical stack and a red error box."""

    key: tuple = ()

    def __init__(self) -> None:
        super().__init__()
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(12, 12, 12, 12)
        self.box.setSpacing(8)
        self.error_box = _label("", "ErrorBox")
        self.error_box.hide()

    def show_errors(self, messages: list[str]) -> None:
        self.error_box.setText("\n".join(messages))
        self.error_box.setVisible(bool(messages))

    def update_from(self, doc: Document) -> None:
        raise NotImplementedError


class LayerForm(_Form):
    rename_done = Signal(str)

    def __init__(self, doc: Document, lid: str) -> None:
        super().__init__()
        layer = doc.layer(lid)
        self.doc, self.lid = doc, lid
        self.key = ("layer", lid, layer.type)
        lt = LAYER_TYPES[layer.type]
        self.box.addWidget(_label(layer.type, "Heading"))
        self.box.addWidget(_label(f"{lt.group} · {lt.doc}", "Subtle"))
        self.box.addWidget(self.error_box)
        form = _form()
        self.id_edit = QLineEdit(lid)
        self.id_edit.setToolTip("The layer's id in the project file (letters, digits, _).")
        self.id_error = _label("", "FieldError")
        self.id_error.hide()
        id_box = QWidget()
        id_layout = QVBoxLayout(id_box)
        id_layout.setContentsMargins(0, 0, 0, 0)
        id_layout.setSpacing(2)
        id_layout.addWidget(self.id_edit)
        id_layout.addWidget(self.id_error)
        self.id_edit.editingFinished.connect(self._rename)
        form.addRow("Id", id_box)
        self.fields: dict[str, Field] = {}
        for param in lt.params:
            field = make_field(param)
            field.committed.connect(lambda value, name=param.name: self._set(name, value))
            form.addRow(label_for(param.name), field)
            self.fields[param.name] = field
        self.inputs_label = _label("")
        form.addRow("Inputs", self.inputs_label)
        self.box.addLayout(form)
        self.stats = _label("", "Stats")
        self.box.addWidget(self.stats)
        self.output_button = QPushButton("Make this the model output")
        self.output_button.clicked.connect(lambda: self.doc.set_output(self.lid))
        self.box.addWidget(self.output_button)
        self.box.addStretch(1)
        self.update_from(doc)

    def _set(self, name: str, value: Any) -> None:
        try:
            self.doc.set_param(self.lid, name, value)
        except SpecError as exc:
            self.fields[name].set_error(exc.reason)

    def _rename(self) -> None:
        new = self.id_edit.text().strip()
        if new == self.lid:
            self.id_error.hide()
            return
        try:
            self.doc.rename(self.lid, new)
        except SpecError as exc:
            self.id_error.setText(exc.reason)
            self.id_error.show()
            return
        self.rename_done.emit(new)

    def update_from(self, doc: Document) -> None:
        layer = doc.layer(self.lid)
        resolved = layer.layer_type.resolve(layer.params)
        info = doc.analysis.blocks.get(self.lid)
        for name, field in self.fields.items():
            field.set_value(resolved.get(name))
            field.set_error(info.error if info and info.error and info.field == name else None)
        if self.id_edit.text() != self.lid and not self.id_edit.hasFocus():
            self.id_edit.setText(self.lid)
        refs = layer.inputs or []
        self.inputs_label.setText(", ".join(refs) if refs else "not connected")
        self.output_button.setEnabled(doc.output_id != self.lid)
        self.output_button.setText(
            "This is the model output"
            if doc.output_id == self.lid
            else "Make this the model output"
        )
        if info is None:
            self.stats.setText("")
            self.show_errors([])
            return
        self.show_errors([info.error] if info.error and info.field not in self.fields else [])
        if info.error:
            self.stats.setText("Output shape: ?")
            return
        lines = [
            f"Output shape: <b>{shape_text(info.output_shape)}</b>",
            f"Parameters: <b>{info.params:,}</b>",
        ]
        if info.torch_params != info.params:
            lines.append(
                f"PyTorch counts {info.torch_params:,} (Keras {info.params:,}): {info.param_note}"
            )
        lines.append(f"MACs per sample: {info.macs:,}")
        if doc.comparison is not None:  # Run > Compare Layers
            from gui.run.layer_compare import layer_lines

            compared = layer_lines(doc.comparison, self.lid)
            if compared:
                lines += ["", *compared]
        self.stats.setText("<br>".join(lines))


class ProjectForm(_Form):
    """Input shape and training settings, shown when nothing is selected."""

    def __init__(self, doc: Document) -> None:
        super().__init__()
        self.doc = doc
        training = doc.project.training
        dataset = training.get("dataset", {}).get("name", "digits")
        optimizer = training.get("optimizer", {}).get("name", "adam")
        self.key = ("project", dataset, optimizer)
        self.box.addWidget(_label("Project", "Heading"))
        self.box.addWidget(
            _label("Nothing is selected: these settings apply to the whole project.", "Subtle")
        )
        self.box.addWidget(self.error_box)
        self.fields: dict[str, Field] = {}

        form = _form()
        self._meta_field(form, "name", "Name")
        self._meta_field(form, "description", "Description")
        self.box.addLayout(form)

        self.box.addWidget(_label("Model input", "Section"))
        form = _form()
        shape = make_field(_SHAPE)
        shape.committed.connect(self._set_shape)
        form.addRow("Shape", shape)
        self.fields["model.input.shape"] = shape
        self.use_dataset_shape = QPushButton()
        self.use_dataset_shape.clicked.connect(self._use_dataset_shape)
        self.use_dataset_shape.hide()
        form.addRow("", self.use_dataset_shape)
        self.box.addLayout(form)

        self.box.addWidget(_label("Dataset", "Section"))
        form = _form()
        name = make_field(_DATASET)
        name.committed.connect(lambda v: self.doc.set_dataset(v))
        form.addRow("Dataset", name)
        self.fields["training.dataset.name"] = name
        for param in catalog.COMMON + catalog.DATASET_PARAMS[dataset]:
            self._training_field(form, ("dataset", param.name), param)
        self.box.addLayout(form)
        self.preview = DatasetPreview()  # shape, class counts and a few samples
        self.box.addWidget(self.preview)

        self.box.addWidget(_label("Training", "Section"))
        form = _form()
        for param in TRAINING_PARAMS:
            self._training_field(form, (param.name,), param)
        self.box.addLayout(form)

        self.box.addWidget(_label("Optimizer", "Section"))
        form = _form()
        opt = make_field(_OPTIMIZER)
        opt.committed.connect(lambda v: self.doc.set_optimizer(v))
        form.addRow("Optimizer", opt)
        self.fields["training.optimizer.name"] = opt
        for param in OPTIMIZER_PARAMS[optimizer]:
            self._training_field(form, ("optimizer", param.name), param)
        self.box.addLayout(form)

        self.stats = _label("", "Stats")
        self.box.addWidget(self.stats)
        self.box.addStretch(1)
        self.update_from(doc)

    def _meta_field(self, form: QFormLayout, key: str, label: str) -> None:
        field = make_field(Param(key, "str", "", doc=f"The project's {key}."))
        field.committed.connect(lambda v, key=key: self._set_meta(key, v))
        form.addRow(label, field)
        self.fields[key] = field

    def _training_field(self, form: QFormLayout, path: tuple[str, ...], param: Param) -> None:
        field = make_field(param)
        field.committed.connect(
            lambda value, path=path, param=param: self._set_training(path, param, value)
        )
        if param.name == "path":
            browse = QPushButton("Browse…")
            browse.clicked.connect(
                lambda _=False, path=path, param=param: self._browse(path, param)
            )
            field.row.addWidget(browse, 0)
        form.addRow(label_for(param.name), field)
        self.fields["training." + ".".join(path)] = field

    def _set_meta(self, key: str, value: str) -> None:
        try:
            self.doc.set_meta(key, value)
        except SpecError as exc:
            self.fields[key].set_error(exc.reason)

    def _set_shape(self, shape: list[int]) -> None:
        try:
            self.doc.set_input_shape(shape)
        except SpecError as exc:
            self.fields["model.input.shape"].set_error(exc.reason)

    def _set_training(self, path: tuple[str, ...], param: Param, value: Any) -> None:
        try:
            self.doc.set_training(path, value, param)
        except SpecError as exc:
            self.fields["training." + ".".join(path)].set_error(exc.reason)

    def _browse(self, path: tuple[str, ...], param: Param) -> None:
        base = self.doc.base_dir
        if base is None:
            self.fields["training." + ".".join(path)].set_error(
                "save the project first: data paths are relative to the project file"
            )
            return
        current = self._training_value(path)
        start = folders.start_dir_within(base, Path(current) if current else None)
        kind = self._training_value(("dataset", "name"))
        if kind == "image_folder":  # one sub-folder per class
            chosen = QFileDialog.getExistingDirectory(self, "Choose the image folder", str(start))
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Choose a data file", str(start), BROWSE_FILTERS.get(kind, DATA_FILTER)
            )
        if chosen:
            folders.remember(chosen)
            try:
                rel = Path(chosen).resolve().relative_to(base.resolve())
            except ValueError:
                self.fields["training." + ".".join(path)].set_error(
                    "the data must be in the project file's folder (or below it)"
                )
                return
            self._set_training(path, param, rel.as_posix())

    def _training_value(self, path: tuple[str, ...]) -> Any:
        """The project's current value at a training path (None where it is not set)."""
        value: Any = self.doc.project.training
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def _dataset_shape(self) -> list[int] | None:
        try:
            info = catalog.describe(self.doc.project.training["dataset"], self.doc.base_dir)
        except (SpecError, KeyError, TypeError, ValueError):
            return None
        return list(info.x_shape)

    def _use_dataset_shape(self) -> None:
        shape = self._dataset_shape()
        if shape:
            self.doc.set_input_shape(shape)

    def update_from(self, doc: Document) -> None:
        project, training = doc.project, doc.project.training
        values: dict[str, Any] = {
            "name": project.name,
            "description": project.description,
            "model.input.shape": list(project.input_shape),
            "training.dataset.name": training.get("dataset", {}).get("name"),
            "training.optimizer.name": training.get("optimizer", {}).get("name", "adam"),
        }
        dataset = training.get("dataset", {})
        for param in catalog.COMMON + catalog.DATASET_PARAMS.get(dataset.get("name"), ()):
            values[f"training.dataset.{param.name}"] = dataset.get(
                param.name, None if param.required else param.default
            )
        for param in TRAINING_PARAMS:
            values[f"training.{param.name}"] = training.get(param.name, param.default)
        optimizer = training.get("optimizer", {})
        for param in OPTIMIZER_PARAMS.get(optimizer.get("name", "adam"), ()):
            values[f"training.optimizer.{param.name}"] = optimizer.get(param.name, param.default)
        errors = list(doc.analysis.project_errors)
        placed: set[int] = set()
        for key, field in self.fields.items():
            field.set_value(values.get(key))
            mine = [e for e in errors if e.field == key]
            placed.update(id(e) for e in mine)
            field.set_error(mine[0].reason if mine else None)
        self.show_errors([e.reason for e in errors if id(e) not in placed])
        shape_wrong = any(e.field == "model.input.shape" for e in errors)
        fit = self._dataset_shape() if shape_wrong else None
        self.use_dataset_shape.setVisible(bool(fit))
        if fit:
            self.use_dataset_shape.setText(f"Use {shape_text(fit)} from the dataset")
        self.preview.show_for(doc.project.training, doc.base_dir)
        a = doc.analysis
        lines = [f"{len(doc.layers)} layers · {a.params:,} parameters · {a.macs:,} MACs per sample"]
        if a.dataset is not None:
            lines.append(
                f"Dataset gives {shape_text(a.dataset.x_shape)} per sample, "
                f"{a.dataset.describe_target()}"
            )
        self.stats.setText("<br>".join(lines))


class InfoForm(_Form):
    """Several blocks, a connection, or the Input block: what it is, nothing to edit."""

    def __init__(self, doc: Document, key: tuple, heading: str, text: str) -> None:
        super().__init__()
        self.key = key
        self.box.addWidget(_label(heading, "Heading"))
        self.text = _label(text)
        self.box.addWidget(self.text)
        self.box.addStretch(1)

    def update_from(self, doc: Document) -> None:
        pass


class Inspector(QScrollArea):
    rename_done = Signal(str)

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Inspector")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.doc = doc
        self.form: _Form | None = None
        self._selection: tuple[list[str], list[tuple[str, str]]] = ([], [])
        doc.changed.connect(self.refresh)

    def show_selection(self, ids: list[str], edges: list[tuple[str, str]]) -> None:
        self._selection = (list(ids), list(edges))
        self.refresh()

    def _key(self) -> tuple:
        ids, edges = self._selection
        ids = [i for i in ids if i == INPUT_ID or self.doc.has(i)]
        if len(ids) == 1 and ids[0] != INPUT_ID and not edges:
            return ("layer", ids[0], self.doc.layer(ids[0]).type)
        if ids or edges:
            return ("info", tuple(ids), tuple(edges), self.doc.analysis.params)
        training = self.doc.project.training
        return (
            "project",
            training.get("dataset", {}).get("name"),
            training.get("optimizer", {}).get("name", "adam"),
        )

    def refresh(self) -> None:
        key = self._key()
        if self.form is not None and self.form.key == key:
            self.form.update_from(self.doc)
            return
        old = self.takeWidget()
        if old is not None:
            # The edit that got us here may come from a widget inside the old form: delete it
            # once that widget's signal has returned.
            old.hide()
            old.deleteLater()
        self.form = self._build(key)
        self.setWidget(self.form)

    def _build(self, key: tuple) -> _Form:
        if key[0] == "layer":
            form = LayerForm(self.doc, key[1])
            form.rename_done.connect(self.rename_done)
            return form
        if key[0] == "project":
            return ProjectForm(self.doc)
        ids, edges = key[1], key[2]
        a = self.doc.analysis
        if ids == (INPUT_ID,) and not edges:
            return InfoForm(
                self.doc,
                key,
                "Input",
                "The model's input. "
                "Select nothing (click the empty canvas) to edit its shape and the dataset.",
            )
        if len(edges) == 1 and not ids:
            src, dst = edges[0]
            shape = a.shape_of(src, self.doc.project.input_shape)
            return InfoForm(
                self.doc,
                key,
                "Connection",
                f"{src} → {dst}, carrying {shape_text(shape)} per sample.\n"
                "Press Delete to remove it.",
            )
        params = sum(a.blocks[i].params for i in ids if i in a.blocks)
        parts = [f"{len(ids)} blocks"] if ids else []
        if edges:
            parts.append(f"{len(edges)} connections")
        return InfoForm(
            self.doc,
            key,
            " and ".join(parts) + " selected",
            f"{params:,} parameters in the selected blocks.\nDelete, copy or drag them together.",
        )
