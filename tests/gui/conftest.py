"""Fixtures for GUI tests: a real main window (offscreen) and a driver that uses it like a user.

Every test gets its own data folder (autosaves, recent files), and dialogs are answered by
the test instead of blocking: ``win.tell`` records messages, ``win.ask`` returns ``answers``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from engine.presets import preset_path
from gui.canvas.view import LAYER_MIME
from gui.fields import ChoiceField, Field, PairField, ShapeField, TextField


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "userdata"
    monkeypatch.setenv("TWINTRAIN_DATA_DIR", str(path))
    return path


class Driver:
    """Drives a MainWindow through its widgets: drops, mouse drags, form fields, actions."""

    def __init__(self, win, qtbot) -> None:
        self.win, self.qtbot = win, qtbot
        self.messages: list[tuple[str, str]] = []
        self.kinds: list[str] = []  # per message: "info", "warning" or "error" (gui.messages.Kind)
        self.answers: list[QMessageBox.StandardButton] = []
        self.questions: list[str] = []

        def tell(title, text, kind="error"):
            from gui.messages import as_kind

            self.messages.append((title, text))
            self.kinds.append(as_kind(kind).value)

        win.tell = tell

        def ask(title, text, buttons, default):
            self.questions.append(text)
            return self.answers.pop(0) if self.answers else QMessageBox.StandardButton.Cancel

        win.ask = ask

    @property
    def doc(self):
        return self.win.doc

    # ---- canvas -------------------------------------------------------------------------------

    def viewport_point(self, scene_point: QPointF) -> QPoint:
        return self.win.view.mapFromScene(scene_point)

    def drop(self, type_name: str, scene_point: QPointF) -> str:
        """Drop a palette entry onto the canvas; returns the new block's id."""
        before = {layer.id for layer in self.doc.layers}
        mime = QMimeData()
        mime.setData(LAYER_MIME, type_name.encode())
        pos = QPointF(self.viewport_point(scene_point))
        event = QDropEvent(
            pos,
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        self.win.view.dropEvent(event)
        (new,) = {layer.id for layer in self.doc.layers} - before
        return new

    def drag(self, a: QPointF, b: QPointF) -> None:
        vp = self.win.view.viewport()
        pa, pb = self.viewport_point(a), self.viewport_point(b)
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pa)
        mid = (pa + pb) / 2
        QTest.mouseMove(vp, mid)
        QTest.mouseMove(vp, pb)
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pb)

    def connect(self, src: str, dst: str) -> None:
        """Drag from src's output port to the middle of dst, as a user would."""
        blocks = self.win.scene.blocks
        self.win.view.centerOn(blocks[dst])
        self.drag(blocks[src].out_point(), blocks[dst].sceneBoundingRect().center())

    def click_block(self, lid: str) -> None:
        item = self.win.scene.blocks[lid]
        self.win.view.centerOn(item)
        point = self.viewport_point(item.mapToScene(item.boundingRect().center() + QPointF(0, -20)))
        QTest.mouseClick(
            self.win.view.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            point,
        )

    def click_empty(self) -> None:
        self.win.scene.clearSelection()

    # ---- inspector ----------------------------------------------------------------------------

    def field(self, name: str) -> Field:
        return self.win.inspector.form.fields[name]

    def set_field(self, name: str, value) -> None:
        """Change an inspector field through its widget, the way typing or clicking would."""
        field = self.field(name)
        if isinstance(field, PairField):
            if isinstance(value, list):
                field.link.setChecked(False)
                field.h.setValue(value[0])
                field.w.setValue(value[1])
            else:
                field.h.setValue(value)
        elif isinstance(field, ChoiceField):
            index = field.combo.findText(value)
            assert index >= 0, f"{value} is not offered for {name}"
            field.combo.setCurrentIndex(index)
            field.combo.activated.emit(index)
        elif isinstance(field, (ShapeField, TextField)):
            edit = field.edit
            edit.setText(", ".join(map(str, value)) if isinstance(value, list) else str(value))
            edit.editingFinished.emit()
        elif hasattr(field, "spin"):
            field.spin.setValue(value)
        else:
            field.box.setChecked(bool(value))

    def rename(self, new: str) -> None:
        form = self.win.inspector.form
        form.id_edit.setText(new)
        form.id_edit.editingFinished.emit()


@pytest.fixture
def win(qtbot):
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.doc.undo_stack.setClean()
    window.doc._forced_dirty = False


@pytest.fixture
def dash(qtbot):
    """The training dashboard on its own run controller, wide enough to show plots and table
    side by side."""
    from gui.run.controller import RunController
    from gui.run.dashboard import Dashboard

    controller = RunController()
    widget = Dashboard(controller)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    yield widget
    controller.shutdown()


@pytest.fixture
def gui(win, qtbot) -> Driver:
    return Driver(win, qtbot)


@pytest.fixture
def preset_copy(tmp_path):
    """Copy a preset into a temporary folder (saving must never touch the bundled presets)."""

    def make(key: str) -> Path:
        dst = tmp_path / f"{key}.twintrain.json"
        shutil.copy(preset_path(key), dst)
        return dst

    return make
