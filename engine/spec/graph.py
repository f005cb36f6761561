"""Pure-Python shape inference over a project's graph, with parameter and MAC counts.

``infer`` never stops at the first problem: each layer gets its own result or error, so the
canvas can turn exactly the broken blocks red. ``validate`` raises the first error for the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.data import catalog
from engine.spec.errors import SpecError
from engine.spec.layer_types import Shape, ShapeError
from engine.spec.project import INPUT_ID, Project
from engine.spec.training import resolve_training

if TYPE_CHECKING:
    from engine.data.catalog import DatasetInfo


@dataclass
class LayerInfo:
    id: str
    type: str
    inputs: list[str]
    input_shapes: list[Shape] = field(default_factory=list)
    output_shape: Shape | None = None
    params: int = 0
    torch_params: int = 0
    param_note: str | None = None
    macs: int = 0
    error: SpecError | None = None

    @property
    def tensorflow_params(self) -> int:
        return self.params


@dataclass
class GraphInfo:
    layers: dict[str, LayerInfo]
    order: list[str]
    output_id: str
    errors: list[SpecError] = field(default_factory=list)
    dataset: DatasetInfo | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def output_shape(self) -> Shape | None:
        return self.layers[self.output_id].output_shape

    def _used(self) -> list[LayerInfo]:
        return [self.layers[i] for i in self.order]

    @property
    def params(self) -> int:
        return sum(info.params for info in self._used())

    @property
    def torch_params(self) -> int:
        return sum(info.torch_params for info in self._used())

    @property
    def macs(self) -> int:
        return sum(info.macs for info in self._used())

    def raise_first(self) -> None:
        if self.errors:
            raise self.errors[0]


def infer(
    project: Project, *, check_dataset: bool = True, base_dir: Path | None = None
) -> GraphInfo:
    """Shapes, counts and errors for every layer of a structurally valid project."""
    layers = {
        layer.id: LayerInfo(layer.id, layer.type, project.inputs_of(i))
        for i, layer in enumerate(project.layers)
    }
    errors: list[SpecError] = []

    def fail(info: LayerInfo, message: str, fld: str | None) -> None:
        info.error = SpecError(message, layer=info.id, field=fld)
        errors.append(info.error)

    for layer in project.layers:
        info, lt = layers[layer.id], layer.layer_type
        n = len(info.inputs)
        if n < lt.min_inputs:
            fail(
                info,
                f"{lt.name} needs at least {lt.min_inputs} "
                f"input{'s' if lt.min_inputs > 1 else ''}, got {n}",
                "inputs",
            )
        elif n > lt.max_inputs:
            fail(
                info,
                f"{lt.name} takes at most {lt.max_inputs} "
                f"input{'s' if lt.max_inputs > 1 else ''}, got {n}",
                "inputs",
            )
    for info in layers.values():
        if info.error is not None:
            continue
        for ref in info.inputs:
            if ref != INPUT_ID and ref not in layers:
                fail(info, f"input '{ref}' names no layer", "inputs")
                break
            if ref == info.id:
                fail(info, "a layer cannot read its own output (cycle)", "inputs")
                break

    order = _topological(project, layers, fail)
    shapes: dict[str, Shape] = {INPUT_ID: tuple(project.input_shape)}
    by_id = {layer.id: layer for layer in project.layers}
    for lid in order:
        info = layers[lid]
        if info.error is not None or any(ref not in shapes for ref in info.inputs):
            continue
        layer = by_id[lid]
        lt = layer.layer_type
        params = layer.resolved()
        ins = [shapes[ref] for ref in info.inputs]
        info.input_shapes = ins
        try:
            out = tuple(int(v) for v in lt.shape(ins, params))
            info.params = int(lt.weights(ins, params))
            info.macs = int(lt.macs(ins, out, params))
            count = lt.torch_params(ins, params)
        except ShapeError as exc:
            fail(info, str(exc), exc.field)
            continue
        info.torch_params = count.params if count else info.params
        info.param_note = count.note if count else None
        info.output_shape = out
        shapes[lid] = out

    output_id = project.output_id
    needed = _ancestors(output_id, layers)
    for lid, info in layers.items():
        if lid not in needed and info.error is None:
            fail(
                info,
                f"does not lead to the model output '{output_id}'; connect it or delete it",
                "inputs",
            )
    used_order = [lid for lid in order if lid in needed]
    graph = GraphInfo(layers, used_order, output_id, errors)
    if check_dataset and not errors:
        _check_dataset(project, graph, base_dir if base_dir is not None else project.base_dir)
    return graph


def validate(project: Project, *, check_dataset: bool = True) -> GraphInfo:
    """infer() that raises the first error (naming the file when the project has one)."""
    graph = infer(project, check_dataset=check_dataset)
    if graph.errors:
        err = graph.errors[0]
        raise err.with_file(str(project.path)) if project.path else err
    return graph


def _topological(
    project: Project,
    layers: dict[str, LayerInfo],
    fail: Callable[[LayerInfo, str, str | None], None],
) -> list[str]:
    pending = {
        lid: {r for r in info.inputs if r != INPUT_ID and r in layers and r != lid}
        for lid, info in layers.items()
    }
    users: dict[str, list[str]] = {lid: [] for lid in layers}
    for lid, deps in pending.items():
        for d in deps:
            users[d].append(lid)
    ready = [lid for lid in layers if not pending[lid]]
    order: list[str] = []
    while ready:
        lid = ready.pop(0)
        order.append(lid)
        for u in users[lid]:
            pending[u].discard(lid)
            if not pending[u]:
                ready.append(u)
    done = set(order)  # built once: inside the comprehension it made validation quadratic
    stuck = [lid for lid in layers if lid not in done]
    if stuck:
        cycle = _find_cycle(stuck[0], pending)
        for lid in stuck:
            if layers[lid].error is None:
                fail(layers[lid], "inputs form a cycle: " + " -> ".join(cycle), "inputs")
    return order


def _find_cycle(start: str, pending: dict[str, set[str]]) -> list[str]:
    path, seen = [start], {start}
    node = start
    while True:
        nxt = sorted(pending[node])[0] if pending[node] else None
        if nxt is None:
            return path
        if nxt in seen:
            return path[path.index(nxt) :] + [nxt]
        path.append(nxt)
        seen.add(nxt)
        node = nxt


def _ancestors(output_id: str, layers: dict[str, LayerInfo]) -> set[str]:
    seen: set[str] = set()
    stack = [output_id]
    while stack:
        lid = stack.pop()
        if lid in seen or lid not in layers:
            continue
        seen.add(lid)
        stack.extend(layers[lid].inputs)
    return seen


def _check_dataset(project: Project, graph: GraphInfo, base_dir: Path | None) -> None:
    def fail(message: str, fld: str) -> None:
        graph.errors.append(SpecError(message, field=fld))

    try:
        info = catalog.describe(project.training["dataset"], base_dir)
    except SpecError as exc:
        graph.errors.append(exc)
        return
    graph.dataset = info
    name = info.name
    x_shape = list(info.x_shape)
    if list(project.input_shape) != x_shape:
        fail(
            f"input shape {list(project.input_shape)} does not fit dataset '{name}', which gives "
            f"{x_shape} per sample; set the input shape to {x_shape}",
            "model.input.shape",
        )
        return
    training = resolve_training(project.training, info.task)
    loss, target = training["loss"], training["target"]
    out = list(graph.output_shape or ())
    where = f"output '{graph.output_id}'"
    if target == "input":
        if loss not in ("mse", "mae"):
            fail(f"reproducing the input needs loss mse or mae, not {loss}", "training.loss")
        elif out != x_shape:
            fail(
                f"{where} has shape {out} but reproducing the input needs {x_shape}",
                "training.target",
            )
        return
    if loss == "cross_entropy":
        if info.task != "classification":
            fail(
                f"cross_entropy needs class labels; dataset '{name}' is {info.describe_target()} "
                "(use mse or mae)",
                "training.loss",
            )
        elif out != [info.n_classes]:
            note = (
                f"; {info.label_note}"
                if info.label_note and out and out[-1] < (info.n_classes or 0)
                else ""
            )
            fail(
                f"{where} has shape {out}; cross_entropy on '{name}' needs [{info.n_classes}] "
                f"(one logit per class){note}",
                "training.loss",
            )
    elif loss == "binary_cross_entropy":
        if info.task != "classification" or info.n_classes != 2:
            fail(
                "binary_cross_entropy needs two classes; "
                f"dataset '{name}' has {info.describe_target()}",
                "training.loss",
            )
        elif out != [1]:
            fail(
                f"{where} has shape {out}; binary_cross_entropy needs [1] (one logit)",
                "training.loss",
            )
    else:
        want = list(info.y_shape) if info.task == "regression" else None
        if want is None:
            fail(
                f"{loss} needs numeric targets; dataset '{name}' has {info.describe_target()} "
                "(use cross_entropy)",
                "training.loss",
            )
        elif out != want:
            fail(
                f"{where} has shape {out}; dataset '{name}' gives targets of shape {want}",
                "training.loss",
            )
