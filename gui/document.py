"""The editable project behind a window, as Qt sees it: signals and a QUndoStack.

The state and every edit live in ``gui.graph_model.GraphModel`` (plain Python, no Qt); this
adapter forwards to it, puts the model's undo commands on a QUndoStack (so the window's
Undo/Redo actions and their "Undo Add Dense" names work) and turns the model's notifications
into signals. Views read the document, they never keep their own copy of the model.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engine.spec.params import Param
from engine.spec.project import Layer, Project
from gui.analysis import Analysis
from gui.canvas.block_item import BLOCK_H
from gui.graph_model import (
    AUTOSAVE_FORMAT,
    BLOCK_GAP,
    CHANGED,
    MODIFIED,
    RESET,
    Command,
    DocState,
    GraphModel,
    Pos,
    new_project,
)

__all__ = ["AUTOSAVE_FORMAT", "BLOCK_GAP", "DocState", "Document", "Pos", "new_project"]


class _QtCommand(QUndoCommand):
    """One model Command on the QUndoStack; edits with the same merge key merge."""

    def __init__(self, command: Command) -> None:
        super().__init__(command.text)
        self.command = command

    def id(self) -> int:
        merge = self.command.merge
        return hash(merge) & 0x3FFFFFFF if merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        return isinstance(other, _QtCommand) and self.command.merge_with(other.command)

    def redo(self) -> None:
        self.command.redo()

    def undo(self) -> None:
        self.command.undo()


class _QtHistory:
    """The model's history kept on a QUndoStack (which runs a command when it is pushed)."""

    def __init__(self, stack: QUndoStack) -> None:
        self.stack = stack

    def push(self, command: Command) -> None:
        self.stack.push(_QtCommand(command))

    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()

    def clear(self) -> None:
        self.stack.clear()

    def set_clean(self) -> None:
        self.stack.setClean()

    def is_clean(self) -> bool:
        return self.stack.isClean()


class Document(QObject):
    changed = Signal()  # any change of state: an edit, undo, redo or a new project
    reset = Signal()  # a different project was loaded (views drop selection, fit the view)
    modified_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.model = GraphModel(_QtHistory(self.undo_stack), block_height=BLOCK_H)
        # Run > Compare Layers' last result (engine.divergence), shown on the canvas and in the
        # inspector; not part of the project: any change drops it (gui.run.layer_compare)
        self.comparison: dict | None = None
        self.model.subscribe(self._relay)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    def _clean_changed(self, _clean: bool) -> None:
        try:
            modified = self.is_modified
        except RuntimeError:  # the stack is being deleted with its document
            return
        self.modified_changed.emit(modified)

    def _relay(self, event: str) -> None:
        if event == CHANGED:
            self.changed.emit()
        elif event == RESET:
            self.reset.emit()
        elif event == MODIFIED:
            self.modified_changed.emit(self.is_modified)

    def bind_undo_actions(self, undo: Any, redo: Any) -> None:
        """Keep two QActions named after the step they would undo or redo ("Undo Add Dense")."""
        stack = self.undo_stack
        base = {action: action.toolTip().rsplit(" (", 1) for action in (undo, redo)}

        def update(*_args: Any) -> None:
            try:
                states = (
                    (undo, "Undo", stack.canUndo(), stack.undoText()),
                    (redo, "Redo", stack.canRedo(), stack.redoText()),
                )
            except RuntimeError:  # the stack is being deleted with its window
                return
            for action, word, can, text in states:
                label = f"{word} {text}" if can and text else word
                action.setText("&" + label.replace("&", "&&"))
                keys = base[action][1:]
                action.setToolTip(f"{label} ({keys[0]}" if keys else label)

        stack.indexChanged.connect(update)
        stack.cleanChanged.connect(update)
        stack.undoTextChanged.connect(update)
        stack.redoTextChanged.connect(update)
        update()

    # ---- reading (forwarded to the model) ---------------------------------------------------

    @property
    def project(self) -> Project:
        """The current project (treat as read-only; edit through the methods below)."""
        return self.model.project

    @property
    def layers(self) -> list[Layer]:
        return self.model.layers

    @property
    def layout(self) -> dict[str, Pos]:
        return self.model.layout

    @property
    def analysis(self) -> Analysis:
        return self.model.analysis

    @property
    def path(self) -> Path | None:
        return self.model.path

    @path.setter
    def path(self, path: Path | None) -> None:
        self.model.path = path

    @property
    def _forced_dirty(self) -> bool:
        return self.model.forced_dirty

    @_forced_dirty.setter
    def _forced_dirty(self, value: bool) -> None:
        self.model.forced_dirty = value

    @property
    def is_modified(self) -> bool:
        return self.model.is_modified

    @property
    def output_id(self) -> str | None:
        return self.model.output_id

    @property
    def base_dir(self) -> Path | None:
        return self.model.base_dir

    def has(self, lid: str) -> bool:
        return self.model.has(lid)

    def layer(self, lid: str) -> Layer:
        return self.model.layer(lid)

    def position(self, lid: str) -> Pos:
        return self.model.position(lid)

    def users_of(self, lid: str) -> list[str]:
        return self.model.users_of(lid)

    def new_id(self, type_name: str, taken: set[str] | None = None) -> str:
        return self.model.new_id(type_name, taken)

    def overlaps(self, pos: Pos, ignore: Collection[str] = frozenset()) -> bool:
        return self.model.overlaps(pos, ignore)

    def free_position(self, pos: Pos) -> Pos:
        return self.model.free_position(pos)

    def can_connect(self, src: str, dst: str) -> str | None:
        return self.model.can_connect(src, dst)

    # ---- loading and saving -----------------------------------------------------------------

    def load(self, project: Project, path: Path | None = None, *, modified: bool = False) -> None:
        self.model.load(project, path, modified=modified)

    def file_project(self) -> Project:
        return self.model.file_project()

    def save(self, path: Path) -> None:
        self.model.save(path)

    def autosave_payload(self) -> dict[str, Any]:
        return self.model.autosave_payload()

    def load_autosave(self, payload: dict[str, Any]) -> None:
        self.model.load_autosave(payload)

    # ---- edits (each is one undo step on undo_stack) ----------------------------------------

    def add_layer(self, type_name: str, pos: Pos, connect_from: str | None = None) -> str:
        return self.model.add_layer(type_name, pos, connect_from)

    def remove(self, layer_ids: Iterable[str] = (), edges: Iterable[tuple[str, str]] = ()) -> bool:
        return self.model.remove(layer_ids, edges)

    # The editing verb, not QObject.connect (a Document's signals are connected through their
    # own .connect, which this does not touch).
    def connect(self, src: str, dst: str) -> str | None:  # type: ignore[override]
        return self.model.connect(src, dst)

    def set_param(self, lid: str, name: str, value: Any) -> bool:
        return self.model.set_param(lid, name, value)

    def reset_param(self, lid: str, name: str) -> bool:
        return self.model.reset_param(lid, name)

    def rename(self, old: str, new: str) -> bool:
        return self.model.rename(old, new)

    def move(self, positions: dict[str, Pos], text: str | None = None) -> bool:
        return self.model.move(positions, text)

    def arrange(self) -> bool:
        return self.model.arrange()

    def set_output(self, lid: str) -> bool:
        return self.model.set_output(lid)

    def set_input_shape(self, shape: list[int]) -> bool:
        return self.model.set_input_shape(shape)

    def set_meta(self, key: str, value: str) -> bool:
        return self.model.set_meta(key, value)

    def set_training(self, path: tuple[str, ...], value: Any, param: Param | None = None) -> bool:
        return self.model.set_training(path, value, param)

    def set_dataset(self, name: str) -> bool:
        return self.model.set_dataset(name)

    def set_optimizer(self, name: str) -> bool:
        return self.model.set_optimizer(name)

    # ---- clipboard --------------------------------------------------------------------------

    def copy_payload(self, layer_ids: list[str]) -> dict[str, Any]:
        return self.model.copy_payload(layer_ids)

    def paste(self, payload: dict[str, Any], offset: Pos = (0.0, 0.0)) -> list[str]:
        return self.model.paste(payload, offset)
