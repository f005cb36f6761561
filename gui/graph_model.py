"""The editable project behind a window, free of Qt: the network, its training settings and
block positions, and every edit of them.

Every edit is a ``Command`` holding the state before and after it (states are never changed
in place: an edit copies, changes the copy and hands the command to the history), so
undo/redo of any kind of edit is the same two lines and cannot drift. After every change the
network is re-analysed and listeners hear ``"changed"``; views read the model, they never keep
their own copy. ``gui.document.Document`` is the thin Qt adapter (signals, a QUndoStack);
this module imports neither Qt nor pyqtgraph, so it can be tested and reused without them.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from engine.spec.errors import SpecError
from engine.spec.graph import infer
from engine.spec.layer_types import LAYER_TYPES
from engine.spec.params import Param, check_shape
from engine.spec.project import (
    ID_PATTERN,
    INPUT_ID,
    MAX_ID_LENGTH,
    Layer,
    Project,
    from_dict,
    save_project,
)
from engine.spec.training import OPTIMIZER_PARAMS
from gui.analysis import Analysis, analyse, default_output, order_layers
from gui.layout import BLOCK_W, COL_PITCH, ROW_PITCH, arrange

BLOCK_H = 80.0  # the canvas's block height (gui.canvas.block_item.BLOCK_H, which the GUI passes)
BLOCK_GAP = 20.0  # the least room kept between a new block and its neighbours

Pos = tuple[float, float]
AUTOSAVE_FORMAT = "twintrain-autosave/1"
BLOCKS_FORMAT = "twintrain-blocks/1"

# What listeners hear (``GraphModel.subscribe``).
CHANGED = "changed"  # any change of state: an edit, undo, redo or a new project
RESET = "reset"  # a different project was loaded (views drop selection, fit the view)
MODIFIED = "modified"  # whether there are unsaved changes may have changed


@dataclass
class DocState:
    """One moment of the document. ``project.layers`` always carry explicit input lists."""

    project: Project
    layout: dict[str, Pos] = field(default_factory=dict)
    explicit_inputs: frozenset[str] = frozenset()  # layers whose file named their inputs
    explicit_output: bool = False  # the file named its output


def new_project() -> Project:
    """What File > New starts from: no layers yet, a small dataset that trains in seconds."""
    return Project(
        input_shape=[2],
        layers=[],
        training={
            "dataset": {"name": "moons"},
            "loss": "cross_entropy",
            "batch_size": 32,
            "epochs": 10,
            "seed": 0,
        },
        name="untitled",
        description="",
    )


class Command:
    """One undoable edit: the whole state before and after it, named for the Undo menu."""

    def __init__(
        self, model: GraphModel, text: str, before: DocState, after: DocState, merge: str | None
    ) -> None:
        self.model, self.text, self.before, self.after = model, text, before, after
        self.merge = merge  # edits with the same key in a row are one undo step (typing a value)

    def redo(self) -> None:
        self.model._set_state(self.after)

    def undo(self) -> None:
        self.model._set_state(self.before)

    def merge_with(self, other: Command) -> bool:
        """Absorb the next edit when both have the same merge key."""
        if self.merge is None or other.merge != self.merge:
            return False
        self.after = other.after
        return True


class History(Protocol):
    """Where edits go: it runs a pushed command (``redo``) and keeps it for undo."""

    def push(self, command: Command) -> None: ...
    def undo(self) -> None: ...
    def redo(self) -> None: ...
    def clear(self) -> None: ...
    def set_clean(self) -> None: ...
    def is_clean(self) -> bool: ...


class UndoHistory:
    """A plain-Python undo stack that behaves like QUndoStack (used where Qt is not)."""

    def __init__(self, on_clean_changed: Callable[[], None] = lambda: None) -> None:
        self.commands: list[Command] = []
        self.index = 0  # commands[:index] are done
        self._clean: int | None = 0
        self._on_clean_changed = on_clean_changed

    def push(self, command: Command) -> None:
        was = self.is_clean()
        command.redo()
        del self.commands[self.index :]
        if self._clean is not None and self._clean > self.index:
            self._clean = None  # the saved state was undone and is now unreachable
        last = self.commands[-1] if self.commands else None
        if last is None or self.index == self._clean or not last.merge_with(command):
            self.commands.append(command)
            self.index += 1
        self._report(was)

    def undo(self) -> None:
        if self.can_undo():
            was = self.is_clean()
            self.index -= 1
            self.commands[self.index].undo()
            self._report(was)

    def redo(self) -> None:
        if self.can_redo():
            was = self.is_clean()
            self.commands[self.index].redo()
            self.index += 1
            self._report(was)

    def clear(self) -> None:
        was = self.is_clean()
        self.commands, self.index, self._clean = [], 0, 0
        self._report(was)

    def set_clean(self) -> None:
        was = self.is_clean()
        self._clean = self.index
        self._report(was)

    def is_clean(self) -> bool:
        return self._clean == self.index

    def can_undo(self) -> bool:
        return self.index > 0

    def can_redo(self) -> bool:
        return self.index < len(self.commands)

    def undo_text(self) -> str:
        return self.commands[self.index - 1].text if self.can_undo() else ""

    def redo_text(self) -> str:
        return self.commands[self.index].text if self.can_redo() else ""

    def _report(self, was_clean: bool) -> None:
        if self.is_clean() != was_clean:
            self._on_clean_changed()


class GraphModel:
    """The graph state and its edits; each edit is one command pushed onto ``history``."""

    def __init__(self, history: History | None = None, block_height: float = BLOCK_H) -> None:
        self._listeners: list[Callable[[str], None]] = []
        self.history: History = (
            UndoHistory(lambda: self._notify(MODIFIED)) if history is None else history
        )
        self.block_height = block_height
        self.path: Path | None = None
        self._state = DocState(new_project())
        self.forced_dirty = False  # modified although the history is clean (a recovered autosave)
        self.analysis = Analysis()
        self._reanalyse()

    # ---- listening --------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call listener(event) on CHANGED, RESET and MODIFIED; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(event)

    def undo(self) -> None:
        self.history.undo()

    def redo(self) -> None:
        self.history.redo()

    # ---- reading ----------------------------------------------------------------------------

    @property
    def project(self) -> Project:
        """The current project (treat as read-only; edit through the methods below)."""
        return self._state.project

    @property
    def layers(self) -> list[Layer]:
        return self._state.project.layers

    @property
    def layout(self) -> dict[str, Pos]:
        return self._state.layout

    @property
    def is_modified(self) -> bool:
        return self.forced_dirty or not self.history.is_clean()

    @property
    def output_id(self) -> str | None:
        return self.analysis.output_id

    @property
    def base_dir(self) -> Path | None:
        return self.path.parent if self.path else None

    def has(self, lid: str) -> bool:
        return any(layer.id == lid for layer in self.layers)

    def layer(self, lid: str) -> Layer:
        return self._state.project.layer(lid)

    def position(self, lid: str) -> Pos:
        return self._state.layout.get(lid, (0.0, 0.0))

    def users_of(self, lid: str) -> list[str]:
        return [layer.id for layer in self.layers if lid in (layer.inputs or [])]

    # ---- loading and saving -----------------------------------------------------------------

    def load(self, project: Project, path: Path | None = None, *, modified: bool = False) -> None:
        """Replace the whole document (not undoable). Missing positions are auto-arranged."""
        project = project.copy()
        explicit = frozenset(layer.id for layer in project.layers if layer.inputs is not None)
        for i, layer in enumerate(project.layers):
            layer.inputs = project.inputs_of(i)
        explicit_output = project.output is not None
        if project.layers and project.output is None:
            last = project.layers[-1].id  # the file's rule; keep it if the editor's would differ
            if default_output(order_layers(project.layers)) != last:
                project.output = last
        layout = _read_layout(project.layout)
        project.layout, project.path = None, None
        state = DocState(project, layout, explicit, explicit_output)
        if any(lid not in layout for lid in [INPUT_ID, *(layer.id for layer in project.layers)]):
            state.layout = arrange(INPUT_ID, project.layers)
        self.history.clear()
        self.path = path
        self.forced_dirty = modified
        self._state = state
        self._reanalyse()
        self._notify(RESET)
        self._notify(CHANGED)
        self._notify(MODIFIED)

    def file_project(self) -> Project:
        """The project as a file holds it: layers in input order, ``inputs`` only where needed."""
        s = self._state
        ordered = order_layers(s.project.layers)
        layers, prev = [], INPUT_ID
        for layer in ordered:
            inputs = list(layer.inputs or [])
            write = layer.id in s.explicit_inputs or inputs != [prev]
            layers.append(
                Layer(
                    layer.id,
                    layer.type,
                    copy.deepcopy(layer.params),
                    inputs if write else None,
                    copy.deepcopy(layer.extras),
                )
            )
            prev = layer.id
        present = {layer.id for layer in ordered}
        output = (
            s.project.output
            if s.project.output in present
            else (default_output(ordered) if ordered else None)
        )
        if not s.explicit_output and layers and layers[-1].id == output:
            output = None  # "the last layer" says it, as the file did
        out = s.project.copy()
        out.layers, out.output = layers, output
        ids = [INPUT_ID, *(layer.id for layer in layers)]
        out.layout = {
            lid: [round(s.layout[lid][0]), round(s.layout[lid][1])]
            for lid in ids
            if lid in s.layout
        }
        out.path = self.path
        return out

    def save(self, path: Path) -> None:
        """Write the project atomically; a network the file format cannot hold raises SpecError."""
        project = self.file_project()
        if not project.layers:
            raise SpecError("add at least one layer before saving (drag one from the palette)")
        from_dict(project.to_dict())  # the same checks a later open will make
        save_project(project, path)
        self.path = Path(path).resolve()
        self.forced_dirty = False
        self.history.set_clean()
        self._reanalyse()  # data file paths are relative to the project's folder
        self._notify(CHANGED)
        self._notify(MODIFIED)

    def autosave_payload(self) -> dict[str, Any]:
        s = self._state
        project = s.project.copy()
        project.layout = {lid: list(pos) for lid, pos in s.layout.items()}
        return {
            "format": AUTOSAVE_FORMAT,
            "path": str(self.path) if self.path else None,
            "project": project.to_dict(),
            "explicit_inputs": sorted(s.explicit_inputs),
            "explicit_output": s.explicit_output,
        }

    def load_autosave(self, payload: dict[str, Any]) -> None:
        """Restore an autosave (it may hold unconnected blocks, which a project file cannot)."""
        if not isinstance(payload, dict) or payload.get("format") != AUTOSAVE_FORMAT:
            raise SpecError("not a TwinTrain autosave")
        data = copy.deepcopy(payload.get("project"))
        layers = data.get("model", {}).get("layers") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(layers, list):
            raise SpecError("the autosave holds no network")
        empty = {
            raw.get("id") for raw in layers if isinstance(raw, dict) and raw.get("inputs") == []
        }
        for raw in layers:
            if isinstance(raw, dict) and raw.get("inputs") == []:
                raw.pop("inputs")
        if not layers:
            data["model"]["layers"] = [{"id": "placeholder", "type": "Flatten"}]
        project = from_dict(data)
        if not layers:
            project.layers = []
        for i, layer in enumerate(project.layers):
            layer.inputs = [] if layer.id in empty else project.inputs_of(i)
        path = payload.get("path")
        self.load(project, Path(path) if path else None, modified=True)
        explicit = frozenset(str(x) for x in payload.get("explicit_inputs") or [])
        self._state = DocState(
            self._state.project, self._state.layout, explicit, bool(payload.get("explicit_output"))
        )

    # ---- edits (each is one undo step) ------------------------------------------------------

    def _edit(
        self, text: str, mutate: Callable[[DocState], None], merge: str | None = None
    ) -> bool:
        before = self._state
        after = copy.deepcopy(before)
        mutate(after)
        if after == before:
            return False
        self._follow_output(before, after)
        self.history.push(Command(self, text, before, after, merge))
        return True

    def _follow_output(self, before: DocState, after: DocState) -> None:
        """Keep the model output where the user expects it across an edit.

        It stays on its block when a side branch is added elsewhere, moves down when the user
        extends the network below it, and falls back to the default rule when it is deleted.
        An edit that sets the output itself (Make model output, rename, delete) wins.
        """
        ids = {layer.id for layer in after.project.layers}
        if after.project.output != before.project.output and after.project.output in ids:
            return

        def readers(state: DocState, lid: str) -> list[str]:
            return [layer.id for layer in state.project.layers if lid in (layer.inputs or [])]

        current = self.analysis.output_id
        if current not in ids:
            after.project.output = None
            return
        if not readers(before, current):
            seen = {current}
            while len(below := readers(after, current)) == 1 and below[0] not in seen:
                current = below[0]
                seen.add(current)
        after.project.output = current

    def _set_state(self, state: DocState) -> None:
        self._state = state
        self._reanalyse()
        self._notify(CHANGED)

    def _reanalyse(self) -> None:
        self.analysis = analyse(self._state.project, self.base_dir)

    def new_id(self, type_name: str, taken: set[str] | None = None) -> str:
        taken = taken if taken is not None else {layer.id for layer in self.layers}
        stem = re.sub(r"[^a-z0-9_]", "", type_name.lower()) or "layer"
        n = 1
        while f"{stem}_{n}" in taken:
            n += 1
        return f"{stem}_{n}"

    def overlaps(self, pos: Pos, ignore: Collection[str] = frozenset()) -> bool:
        """Whether a block at pos would touch a block already on the canvas."""
        x, y = pos
        for lid in [INPUT_ID, *(layer.id for layer in self.layers)]:
            if lid in ignore:
                continue
            ox, oy = self.position(lid)
            if abs(ox - x) < BLOCK_W + BLOCK_GAP and abs(oy - y) < self.block_height + BLOCK_GAP:
                return True
        return False

    def free_position(self, pos: Pos) -> Pos:
        """pos when it is free, else the nearest free spot to the right of it or below it."""
        x, y = float(pos[0]), float(pos[1])
        dx, dy = self._free_shift([(x, y)])
        return (x + dx, y + dy)

    def _free_shift(self, spots: list[Pos], start: Pos = (0.0, 0.0)) -> Pos:
        """The least shift (start, then whole columns right or rows down) after which no block
        placed at spots would touch one on the canvas; a group keeps its own arrangement."""
        for ring in range(10_000):
            steps = [(ring, j) for j in range(ring + 1)] + [(i, ring) for i in range(ring)]
            for i, j in steps:
                dx, dy = start[0] + i * COL_PITCH, start[1] + j * ROW_PITCH
                if not any(self.overlaps((x + dx, y + dy)) for x, y in spots):
                    return (dx, dy)
        return start  # pragma: no cover - a canvas of 10,000 columns

    def add_layer(self, type_name: str, pos: Pos, connect_from: str | None = None) -> str:
        """Add a block at pos, or at the nearest free spot when pos would overlap a block."""
        lt = LAYER_TYPES[type_name]
        lid = self.new_id(type_name)
        pos = self.free_position(pos)

        def mutate(s: DocState) -> None:
            inputs = [connect_from] if connect_from is not None else []
            s.project.layers.append(Layer(lid, type_name, copy.deepcopy(lt.suggested), inputs))
            s.layout[lid] = (float(pos[0]), float(pos[1]))

        self._edit(f"Add {type_name}", mutate)
        return lid

    def remove(self, layer_ids: Iterable[str] = (), edges: Iterable[tuple[str, str]] = ()) -> bool:
        """Delete blocks and connections (one undo step).

        A deleted block that had exactly one input is bridged: the blocks that read it read
        its input instead, where the engine's shape inference accepts the result (deleting the
        middle of a chain keeps the chain). Otherwise they lose that input.
        """
        gone = set(layer_ids) - {INPUT_ID}
        cut = set(edges)

        def mutate(s: DocState) -> None:
            bridges = _bridges(s.project, gone, cut)
            s.project.layers = [layer for layer in s.project.layers if layer.id not in gone]
            for layer in s.project.layers:
                layer.inputs = [
                    bridges.get((layer.id, slot), r)
                    for slot, r in enumerate(layer.inputs or [])
                    if (r not in gone or (layer.id, slot) in bridges) and (r, layer.id) not in cut
                ]
            for lid in gone:
                s.layout.pop(lid, None)
            if s.project.output in gone:
                s.project.output = None
                s.explicit_output = False

        parts = ([next(iter(gone))] if len(gone) == 1 else [f"{len(gone)} blocks"]) if gone else []
        if cut - {(a, b) for a, b in cut if b in gone}:
            parts.append("connection" + "s" * (len(cut) != 1))
        return self._edit("Delete " + " and ".join(parts or ["nothing"]), mutate)

    def can_connect(self, src: str, dst: str) -> str | None:
        """Why src -> dst cannot be connected, or None when it can."""
        if dst == INPUT_ID:
            return "the Input block has no input port"
        if not self.has(dst) or (src != INPUT_ID and not self.has(src)):
            return "no such block"
        if src == dst:
            return "a block cannot read its own output"
        if src in self._upstream_users(dst):
            return f"connecting {src} -> {dst} would form a cycle"
        layer = self.layer(dst)
        if src in (layer.inputs or []):
            return f"{src} is already connected to {dst}"
        lt = layer.layer_type
        if lt.max_inputs > 1 and len(layer.inputs or []) >= lt.max_inputs:
            return f"{layer.type} takes at most {lt.max_inputs} inputs"
        return None

    def _upstream_users(self, lid: str) -> set[str]:
        """Every block that reads lid's output, directly or further down."""
        seen, stack = set(), [lid]
        while stack:
            cur = stack.pop()
            for user in self.users_of(cur):
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
        return seen

    def connect(self, src: str, dst: str) -> str | None:
        """Connect src's output to dst's input; a one-input block swaps its old input out."""
        why = self.can_connect(src, dst)
        if why:
            return why

        def mutate(s: DocState) -> None:
            layer = s.project.layer(dst)
            layer.inputs = (
                [src] if layer.layer_type.max_inputs == 1 else [*(layer.inputs or []), src]
            )

        self._edit(f"Connect {src} to {dst}", mutate)
        return None

    def set_param(self, lid: str, name: str, value: Any) -> bool:
        """Set one layer parameter; a value the registry refuses raises SpecError."""
        layer = self.layer(lid)
        param = layer.layer_type.param(name)
        if param is None:
            raise SpecError(f"unknown parameter '{name}'", layer=lid, field=name)
        param.validate(value, layer=lid)
        if layer.params.get(name, _MISSING) == value:
            return False

        def mutate(s: DocState) -> None:
            s.project.layer(lid).params[name] = copy.deepcopy(value)

        return self._edit(f"Set {lid}.{name}", mutate, merge=f"param:{lid}:{name}")

    def reset_param(self, lid: str, name: str) -> bool:
        def mutate(s: DocState) -> None:
            s.project.layer(lid).params.pop(name, None)

        return self._edit(f"Reset {lid}.{name}", mutate)

    def rename(self, old: str, new: str) -> bool:
        """Give a layer a new id; references, the output and its position follow."""
        if new == old:
            return False
        if len(new) > MAX_ID_LENGTH or not ID_PATTERN.match(new):
            raise SpecError(
                f"'{new}' is not a valid id: use letters, digits and _, not starting with a digit",
                layer=old,
                field="id",
            )
        if new == INPUT_ID:
            raise SpecError("'input' is reserved for the model's input", layer=old, field="id")
        if self.has(new):
            raise SpecError(f"id '{new}' is already used by another layer", layer=old, field="id")

        def mutate(s: DocState) -> None:
            for layer in s.project.layers:
                if layer.id == old:
                    layer.id = new
                layer.inputs = [new if r == old else r for r in layer.inputs or []]
            if s.project.output == old or (
                s.project.output is None and self.analysis.output_id == old
            ):
                s.project.output = new
            if old in s.layout:
                s.layout[new] = s.layout.pop(old)
            if old in s.explicit_inputs:
                s.explicit_inputs = (s.explicit_inputs - {old}) | {new}

        return self._edit(f"Rename {old} to {new}", mutate)

    def move(self, positions: dict[str, Pos], text: str | None = None) -> bool:
        if not positions:
            return False
        if text is None:
            moved = [
                lid
                for lid, pos in positions.items()
                if tuple(map(float, pos)) != self.position(lid)
            ] or list(positions)
            text = f"Move {moved[0]}" if len(moved) == 1 else f"Move {len(moved)} blocks"

        def mutate(s: DocState) -> None:
            for lid, (x, y) in positions.items():
                s.layout[lid] = (float(x), float(y))

        return self._edit(text, mutate)

    def arrange(self) -> bool:
        """Auto-arrange top to bottom (one undo step)."""
        return self.move(arrange(INPUT_ID, self.layers), "Auto-arrange")

    def set_output(self, lid: str) -> bool:
        def mutate(s: DocState) -> None:
            s.project.output = lid

        return self._edit(f"Make {lid} the model output", mutate)

    def set_input_shape(self, shape: list[int]) -> bool:
        check_shape(shape, lambda msg: SpecError(msg, field="model.input.shape"))

        def mutate(s: DocState) -> None:
            s.project.input_shape = list(shape)

        return self._edit("Set input shape", mutate, merge="input_shape")

    def set_meta(self, key: str, value: str) -> bool:
        """The project's name or description."""
        if key not in ("name", "description"):
            raise ValueError(key)
        if key == "name" and not value.strip():
            raise SpecError("the name cannot be empty", field="name")

        def mutate(s: DocState) -> None:
            setattr(s.project, key, value)
            if key == "name":
                s.project.has_name = True
            else:
                s.project.has_description = True

        return self._edit(f"Set {key}", mutate, merge=f"meta:{key}")

    def set_training(self, path: tuple[str, ...], value: Any, param: Param | None = None) -> bool:
        """Set one training value, e.g. ('batch_size',) or ('optimizer', 'learning_rate')."""
        if param is not None:
            try:
                param.validate(value)
            except SpecError as exc:
                raise SpecError(exc.reason, field="training." + ".".join(path)) from None

        def mutate(s: DocState) -> None:
            section = s.project.training
            for key in path[:-1]:
                section = section.setdefault(key, {})
            section[path[-1]] = copy.deepcopy(value)

        return self._edit("Set " + ".".join(path), mutate, merge="training:" + ".".join(path))

    def set_dataset(self, name: str) -> bool:
        """Switch dataset; settings the new one does not take are dropped."""
        from engine.data import catalog

        keep = {p.name for p in catalog.COMMON + catalog.DATASET_PARAMS[name]}

        def mutate(s: DocState) -> None:
            old = s.project.training.get("dataset", {})
            s.project.training["dataset"] = {
                "name": name,
                **{k: v for k, v in old.items() if k in keep or k.startswith("x-")},
            }

        return self._edit(f"Use dataset {name}", mutate)

    def set_optimizer(self, name: str) -> bool:
        keep = {p.name for p in OPTIMIZER_PARAMS[name]}

        def mutate(s: DocState) -> None:
            old = s.project.training.get("optimizer", {})
            s.project.training["optimizer"] = {
                "name": name,
                **{k: v for k, v in old.items() if k in keep or k.startswith("x-")},
            }

        return self._edit(f"Use optimizer {name}", mutate)

    # ---- clipboard --------------------------------------------------------------------------

    def copy_payload(self, layer_ids: list[str]) -> dict[str, Any]:
        chosen = [layer for layer in self.layers if layer.id in set(layer_ids)]
        return {
            "format": BLOCKS_FORMAT,
            "layers": [layer.to_dict() for layer in chosen],
            "layout": {layer.id: list(self.position(layer.id)) for layer in chosen},
        }

    def paste(self, payload: dict[str, Any], offset: Pos = (0.0, 0.0)) -> list[str]:
        """Add copies of copied blocks with fresh ids; connections among them are kept.

        The copies keep their arrangement, shifted by offset and then by whole columns or rows
        until none touches a block on the canvas: pasting again never lands on an earlier
        paste, and a cut block pasted back returns to where it was.
        """
        if not isinstance(payload, dict) or payload.get("format") != BLOCKS_FORMAT:
            return []
        taken = {layer.id for layer in self.layers}
        fresh: list[Layer] = []
        renames: dict[str, str] = {}
        for raw in payload.get("layers", []):
            try:
                layer = _layer_from_dict(raw)
            except SpecError:
                continue
            new = layer.id if layer.id not in taken else self.new_id(layer.type, taken)
            taken.add(new)
            renames[layer.id] = new
            fresh.append(layer)
        if not fresh:
            return []
        layout = _read_layout(payload.get("layout"))
        spots = {layer.id: layout.get(layer.id, (0.0, 0.0)) for layer in fresh}
        dx, dy = self._free_shift(list(spots.values()), (float(offset[0]), float(offset[1])))

        def mutate(s: DocState) -> None:
            for layer in fresh:
                old = layer.id
                layer.id = renames[old]
                layer.inputs = [renames[r] for r in layer.inputs or [] if r in renames]
                s.project.layers.append(layer)
                x, y = spots[old]
                s.layout[layer.id] = (x + dx, y + dy)

        self._edit(f"Paste {len(fresh)} block{'s' * (len(fresh) != 1)}", mutate)
        return list(renames.values())


_MISSING = object()


def _bridges(
    project: Project, gone: set[str], cut: set[tuple[str, str]]
) -> dict[tuple[str, int], str]:
    """(reader, input slot) -> the block it should read instead of a deleted one.

    A deleted block is bridged only when it had exactly one input (through a run of deleted
    one-input blocks to the first kept one), the reader does not already read that block, and
    ``engine.spec.graph.infer`` accepts the reader's new input shape.
    """
    by_id = {layer.id: layer for layer in project.layers}

    def source(ref: str) -> str | None:
        seen = set()
        while ref in gone:
            inputs = by_id[ref].inputs or []
            if len(inputs) != 1 or ref in seen:
                return None
            seen.add(ref)
            ref = inputs[0]
        return ref

    candidates: dict[tuple[str, int], str] = {}
    for layer in project.layers:
        if layer.id in gone:
            continue
        refs = layer.inputs or []
        for slot, ref in enumerate(refs):
            if ref in gone and (ref, layer.id) not in cut:
                src = source(ref)
                taken = {s for (reader, _slot), s in candidates.items() if reader == layer.id}
                if src is not None and src not in refs and src not in taken:
                    candidates[(layer.id, slot)] = src
    bridges: dict[tuple[str, int], str] = {}
    for key, src in candidates.items():
        trial = {**bridges, key: src}
        if _shapes_fit(project, gone, cut, trial, key[0]):
            bridges[key] = src
    return bridges


def _shapes_fit(
    project: Project,
    gone: set[str],
    cut: set[tuple[str, str]],
    bridges: dict[tuple[str, int], str],
    lid: str,
) -> bool:
    """Whether the engine infers a shape for lid once the deletion and bridges are applied."""
    layers = []
    for layer in order_layers([layer for layer in project.layers if layer.id not in gone]):
        refs = [
            bridges.get((layer.id, slot), r)
            for slot, r in enumerate(layer.inputs or [])
            if (r not in gone or (layer.id, slot) in bridges) and (r, layer.id) not in cut
        ]
        # an unconnected block reads itself: infer() gives it an error and no shape
        # (as analyse() does)
        layers.append(Layer(layer.id, layer.type, layer.params, refs or [layer.id]))
    probe = Project(
        input_shape=list(project.input_shape), layers=layers, training=project.training, output=lid
    )
    try:
        info = infer(probe, check_dataset=False).layers.get(lid)
    except SpecError:
        return False
    return info is not None and info.error is None


def _layer_from_dict(raw: Any) -> Layer:
    """One copied layer, checked like a file's layer (a clipboard may hold anything)."""
    if not isinstance(raw, dict):
        raise SpecError("not a layer")
    raw = dict(raw)
    inputs = raw.pop("inputs", None)
    lt = LAYER_TYPES.get(raw.get("type")) if isinstance(raw.get("type"), str) else None
    raw["inputs"] = [INPUT_ID] * (lt.min_inputs if lt else 1)
    probe = {
        "format": "twintrain/1",
        "model": {"input": {"shape": [1]}, "layers": [raw]},
        "training": {"dataset": {"name": "xor"}},
    }
    layer = from_dict(probe).layers[0]
    layer.inputs = [r for r in inputs if isinstance(r, str)] if isinstance(inputs, list) else []
    return layer


def _read_layout(layout: Any) -> dict[str, Pos]:
    out: dict[str, Pos] = {}
    if not isinstance(layout, dict):
        return out
    for key, value in layout.items():
        if (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in value
            )
        ):
            out[str(key)] = (float(value[0]), float(value[1]))
    return out
