"""Form fields made from ``engine.spec.params.Param`` declarations (kind, default, range).

One class per parameter kind, none per layer: the inspector asks ``make_field(param)`` for
every parameter of whatever it shows. A field emits ``committed(value)`` when the user finishes
an edit; whoever applies it reports a refusal back with ``set_error`` so the message appears
under the field that caused it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.spec.params import Param
from gui.icons import icon

INT_LIMIT = 2**31 - 1
_PARTIAL_FLOAT = re.compile(r"[-+]?\d*\.?\d*(?:[eE][-+]?\d*)?")


class FloatSpin(QDoubleSpinBox):
    """A spin box that shows 0.001 and 1e-07 as such, and steps by about a tenth of the value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.allowed = (-1e12, 1e12)  # where the arrows may go; any number can be typed

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        try:
            float(stripped)
            return (QValidator.State.Acceptable, text, pos)
        except ValueError:
            state = (
                QValidator.State.Intermediate
                if _PARTIAL_FLOAT.fullmatch(stripped)
                else QValidator.State.Invalid
            )
            return (state, text, pos)

    def stepBy(self, steps: int) -> None:
        v = self.value()
        step = 10 ** (math.floor(math.log10(abs(v))) - 1) if v else 0.01
        lo, hi = self.allowed
        self.setValue(min(hi, max(lo, round(v + steps * step, 12))))


class IntSpin(QSpinBox):
    """A spin box that takes any integer typed (the field then says why one is out of range,
    instead of the box silently putting the old value back); the arrows stay in ``allowed``."""

    def __init__(self, allowed: tuple[int, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.allowed = allowed

    def stepBy(self, steps: int) -> None:
        lo, hi = self.allowed
        self.setValue(min(hi, max(lo, self.value() + steps * self.singleStep())))

    def stepEnabled(self) -> QSpinBox.StepEnabledFlag:
        lo, hi = self.allowed
        flags = QSpinBox.StepEnabledFlag.StepNone
        if self.value() < hi:
            flags |= QSpinBox.StepEnabledFlag.StepUpEnabled
        if self.value() > lo:
            flags |= QSpinBox.StepEnabledFlag.StepDownEnabled
        return flags


def _int_spin(param: Param, special: str | None = None) -> IntSpin:
    lo = int(param.minimum) if param.minimum is not None else -INT_LIMIT
    hi = int(param.maximum) if param.maximum is not None else INT_LIMIT
    if special is not None:
        lo -= 1
    lo, hi = max(lo, -INT_LIMIT), min(hi, INT_LIMIT)
    spin = IntSpin((lo, hi))
    if special is not None:
        spin.setSpecialValueText(special)  # "auto" sits at the bottom of the range
        spin.setRange(lo, INT_LIMIT)
    else:
        spin.setRange(-INT_LIMIT, INT_LIMIT)
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    return spin


def range_error(param: Param, value: Any) -> str | None:
    """'units must be at least 1' for a number outside the parameter's range, else None."""
    values = value if isinstance(value, list) else [value]
    name = param.name.replace("_", " ")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        lo, hi = param.minimum, param.maximum
        if lo is not None and (v < lo or (param.exclusive_min and v == lo)):
            return (
                f"{name} must be {'greater than' if param.exclusive_min else 'at least'} {lo:g} "
                f"(got {v:g})"
            )
        if hi is not None and (v > hi or (param.exclusive_max and v == hi)):
            return (
                f"{name} must be {'less than' if param.exclusive_max else 'at most'} {hi:g} "
                f"(got {v:g})"
            )
    return None


class Field(QWidget):
    """An editor row plus the red message line under it."""

    committed = Signal(object)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self._value: Any = None
        self._typed_error: str | None = None  # a value the field refused itself (out of range)
        self._doc_error: str | None = None  # what whoever applies the values last said
        self._editors: list[QWidget] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        self.row = QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        outer.addLayout(self.row)
        self.error_label = QLabel()
        self.error_label.setObjectName("FieldError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        tip = param.doc
        if not param.required:
            tip += f" (default: {_show_default(param.default)})"
        self.setToolTip(tip)

    def _add(self, editor: QWidget, stretch: int = 1) -> None:
        # An explicit minimum overrides the spin box's hint (sized for its largest value), so
        # forms fit a narrow inspector.
        editor.setMinimumWidth(56)
        self._editors.append(editor)
        self.row.addWidget(editor, stretch)

    @property
    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        """Show a value without emitting ``committed``. A refused value the user typed stays
        shown (red) until they fix it."""
        self._value = value
        if self._typed_error:
            return
        for editor in self._editors:
            editor.blockSignals(True)
        try:
            self._show(value)
        finally:
            for editor in self._editors:
                editor.blockSignals(False)

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def _commit(self, value: Any) -> None:
        why = None if value is None else range_error(self.param, value)
        if why or self._typed_error:
            self._typed_error = why
            self._show_error(why or self._doc_error)
            if why:
                return
        if value != self._value or type(value) is not type(self._value):
            self.committed.emit(value)

    def set_error(self, message: str | None) -> None:
        """Show (or clear) a message from whoever applies the values; a value this field
        refused itself keeps its own message until the user fixes it."""
        self._doc_error = message
        self._show_error(self._typed_error or message)

    def _show_error(self, message: str | None) -> None:
        for editor in self._editors:
            editor.setProperty("error", bool(message))
            editor.setToolTip(message or self.toolTip())
            editor.style().unpolish(editor)
            editor.style().polish(editor)
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    @property
    def error(self) -> str | None:
        return self.error_label.text() or None


class IntField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = _int_spin(param, "auto" if param.nullable else None)
        self.spin.valueChanged.connect(lambda v: self._commit(self._from_spin(v)))
        self._add(self.spin)

    def _from_spin(self, v: int) -> int | None:
        if self.param.nullable and v == self.spin.minimum():
            return None
        return int(v)

    def _show(self, value: Any) -> None:
        if value is None:
            self.spin.setValue(self.spin.minimum())
        elif isinstance(value, int):
            self.spin.setValue(value)


class FloatField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = FloatSpin()
        self.spin.allowed = (
            param.minimum if param.minimum is not None else -1e12,
            param.maximum if param.maximum is not None else 1e12,
        )
        self.spin.setRange(min(-1e12, self.spin.allowed[0]), max(1e12, self.spin.allowed[1]))
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(lambda v: self._commit(float(v)))
        self._add(self.spin)

    def _show(self, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.spin.setValue(float(value))


class BoolField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.box = QCheckBox()
        self.box.toggled.connect(lambda on: self._commit(bool(on)))
        self._add(self.box)

    def _show(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class ChoiceField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox()
        self.combo.addItems(list(param.choices))
        self.combo.activated.connect(lambda i: self._commit(self.combo.itemText(i)))
        self._add(self.combo)

    def _show(self, value: Any) -> None:
        i = self.combo.findText(str(value)) if value is not None else -1
        self.combo.setCurrentIndex(i)


class PairField(Field):
    """An int or [h, w]: two spin boxes and a link toggle. Linked (the default for a square
    size) edits both sides at once and writes one integer; unlinked allows [h, w]."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        special = "auto" if param.nullable else None
        self.h, self.w = _int_spin(param, special), _int_spin(param, special)
        self.h.setToolTip("height")
        self.w.setToolTip("width")
        self.link = QToolButton()
        self.link.setCheckable(True)
        self.link.setChecked(True)
        self.link.setIcon(icon("link"))
        self.link.setToolTip("Same size for height and width")
        self._add(self.h)
        self.row.addWidget(self.link, 0)
        self._add(self.w)
        self.h.valueChanged.connect(lambda _v: self._changed("h"))
        self.w.valueChanged.connect(lambda _v: self._changed("w"))
        self.link.toggled.connect(self._relinked)

    def _relinked(self, linked: bool) -> None:
        if linked and self.h.value() != self.w.value():
            self._changed("h")

    def _changed(self, which: str) -> None:
        h, w = self.h.value(), self.w.value()
        auto = self.h.minimum() if self.param.nullable else None
        if auto is not None and (h == auto or w == auto):
            self._commit(None)
            return
        if self.link.isChecked():
            h = w = h if which == "h" else w
        self._commit(h if h == w else [h, w])

    def _show(self, value: Any) -> None:
        self.link.blockSignals(True)
        if value is None:
            self.h.setValue(self.h.minimum())
            self.w.setValue(self.w.minimum())
        elif isinstance(value, list) and len(value) == 2:
            self.h.setValue(int(value[0]))
            self.w.setValue(int(value[1]))
            self.link.setChecked(value[0] == value[1])
        elif isinstance(value, int):
            self.h.setValue(value)
            self.w.setValue(value)
            self.link.setChecked(True)
        self.link.blockSignals(False)


class ShapeField(Field):
    """A per-sample shape typed as '8, 8, 1'."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("e.g. 8, 8, 1")
        self.edit.editingFinished.connect(self._finish)
        self._add(self.edit)

    def _finish(self) -> None:
        text = self.edit.text().strip().strip("[]()")
        try:
            shape = [int(part) for part in re.split(r"[,\s×x]+", text) if part]
        except ValueError:
            self.set_error(
                f"'{self.edit.text()}' is not a shape: "
                "write whole numbers separated by commas, e.g. 8, 8, 1"
            )
            return
        self._commit(shape)

    def _show(self, value: Any) -> None:
        self.edit.setText(", ".join(str(v) for v in value) if isinstance(value, list) else "")


class TextField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit()
        self.edit.editingFinished.connect(lambda: self._commit(self.edit.text()))
        self._add(self.edit)

    def _show(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


_KINDS: dict[str, type[Field]] = {
    "int": IntField,
    "float": FloatField,
    "bool": BoolField,
    "choice": ChoiceField,
    "int_or_pair": PairField,
    "shape": ShapeField,
    "str": TextField,
}


def make_field(param: Param, parent: QWidget | None = None) -> Field:
    return _KINDS[param.kind](param, parent)


def label_for(name: str) -> str:
    """'kernel_size' -> 'Kernel size'."""
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _show_default(value: Any) -> str:
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
