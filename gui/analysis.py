"""What the canvas and inspector show about a network: shapes, counts and errors per block.

A thin layer over ``engine.spec.graph.infer`` for the states an editor has and a file cannot:
blocks that are not connected yet, and blocks downstream of a broken one (they have no shape
because their input has none, and the user should see why).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.catalog import DatasetInfo, describe
from engine.spec.errors import SpecError
from engine.spec.graph import infer
from engine.spec.layer_types import Shape
from engine.spec.project import INPUT_ID, Layer, Project
from engine.spec.training import validate_training


@dataclass
class BlockInfo:
    output_shape: Shape | None = None
    params: int = 0
    torch_params: int = 0
    param_note: str | None = None
    macs: int = 0
    error: str | None = None  # the engine's reason (or the editor's, for unconnected blocks)
    field: str | None = None  # the parameter the error is about, when it is one
    waiting: bool = False  # no shape only because something upstream is broken


@dataclass
class Analysis:
    blocks: dict[str, BlockInfo] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    output_id: str | None = None
    project_errors: list[SpecError] = field(default_factory=list)
    params: int = 0
    torch_params: int = 0
    macs: int = 0
    dataset: DatasetInfo | None = None

    @property
    def ok(self) -> bool:
        return not self.project_errors and all(b.error is None for b in self.blocks.values())

    def field_errors(self, prefix: str) -> list[SpecError]:
        """Project-level errors about one field, e.g. 'training.loss' or 'model.input.shape'."""
        return [e for e in self.project_errors if (e.field or "").startswith(prefix)]

    def differences(self) -> list[tuple[str, int, int, str]]:
        """(id, spec/Keras count, PyTorch count, why) for layers the frameworks count apart."""
        return [
            (lid, b.params, b.torch_params, b.param_note or "")
            for lid, b in self.blocks.items()
            if b.torch_params != b.params and b.error is None
        ]

    def shape_of(self, lid: str, input_shape: list[int]) -> Shape | None:
        if lid == INPUT_ID:
            return tuple(input_shape)
        block = self.blocks.get(lid)
        return block.output_shape if block else None


def order_layers(layers: list[Layer]) -> list[Layer]:
    """Layers in an order where each comes after its inputs, keeping the current order otherwise.

    Saved files list layers this way, so a plain stack needs no ``inputs``. Layers caught in a
    cycle keep their relative order at the end (inference reports the cycle).
    """
    index = {layer.id: i for i, layer in enumerate(layers)}
    pending = {
        layer.id: {r for r in (layer.inputs or []) if r in index and r != layer.id}
        for layer in layers
    }
    users: dict[str, list[str]] = {lid: [] for lid in index}
    for lid, deps in pending.items():
        for d in deps:
            users[d].append(lid)
    ready = [i for i, layer in enumerate(layers) if not pending[layer.id]]
    heapq.heapify(ready)
    out: list[Layer] = []
    done: set[str] = set()
    while ready:
        layer = layers[heapq.heappop(ready)]
        out.append(layer)
        done.add(layer.id)
        for u in users[layer.id]:
            pending[u].discard(layer.id)
            if not pending[u]:
                heapq.heappush(ready, index[u])
    out.extend(layer for layer in layers if layer.id not in done)
    return out


def default_output(ordered: list[Layer]) -> str:
    """The output when the project names none: the last block that has an input and that no
    block reads.

    For a file this is its last layer (the file's rule). In the editor it keeps a block just
    dropped (not connected yet) from taking over as the output, and keeps the output where it
    was when the user breaks the chain above it.
    """
    read = {r for layer in ordered for r in layer.inputs or []}
    sinks = [layer.id for layer in ordered if layer.inputs and layer.id not in read]
    return sinks[-1] if sinks else ordered[-1].id


def unconnected_reason(layer: Layer) -> str | None:
    lt = layer.layer_type
    have = len(layer.inputs or [])
    if have >= lt.min_inputs:
        return None
    if have == 0:
        return (
            "input not connected: "
            "drag from a block's output port (or the Input block) to this block"
        )
    return (
        f"{layer.type} needs at least {lt.min_inputs} inputs; connect {lt.min_inputs - have} more"
    )


def analyse(project: Project, base_dir: Path | None = None) -> Analysis:
    """Analyse a project whose layers all carry explicit input lists (possibly empty)."""
    if not project.layers:
        return Analysis()
    ordered = order_layers(project.layers)
    ids = {layer.id for layer in ordered}
    unconnected = {layer.id: r for layer in ordered if (r := unconnected_reason(layer))}
    # An unconnected block reads itself: infer() reports that cleanly and gives it no shape,
    # and the editor replaces the message with one about connecting it.
    infer_layers = [
        Layer(
            layer.id,
            layer.type,
            layer.params,
            [layer.id] if layer.id in unconnected else list(layer.inputs or []),
        )
        for layer in ordered
    ]
    output = project.output if project.output in ids else default_output(ordered)
    probe = Project(
        input_shape=list(project.input_shape),
        layers=infer_layers,
        training=project.training,
        output=output,
    )
    errors: list[SpecError] = []
    try:
        validate_training(project.training)
        check_dataset = True
    except SpecError as exc:
        errors.append(exc)
        check_dataset = False
    graph = infer(probe, check_dataset=check_dataset, base_dir=base_dir)
    blocks: dict[str, BlockInfo] = {}
    for lid, info in graph.layers.items():
        block = BlockInfo(
            info.output_shape, info.params, info.torch_params, info.param_note, info.macs
        )
        if lid in unconnected:
            block.error, block.field, block.output_shape = unconnected[lid], "inputs", None
        elif info.error is not None:
            block.error, block.field = info.error.reason, info.error.field
        blocks[lid] = block
    for lid, info in graph.layers.items():
        block = blocks[lid]
        if block.error is None and block.output_shape is None:
            culprit = next(
                (
                    r
                    for r in info.inputs
                    if r != INPUT_ID and blocks.get(r) and blocks[r].output_shape is None
                ),
                "?",
            )
            block.waiting = True
            block.error = (
                f"no output shape: its input '{culprit}' has a problem (see the red block above it)"
            )
            block.field = "inputs"
    errors.extend(e for e in graph.errors if e.layer is None)
    dataset = graph.dataset
    if dataset is None and check_dataset:  # the network has errors; still say what the data is
        try:
            dataset = describe(project.training["dataset"], base_dir)
        except SpecError:
            dataset = None
    return Analysis(
        blocks=blocks,
        order=[layer.id for layer in ordered],
        output_id=output,
        project_errors=errors,
        params=graph.params,
        torch_params=graph.torch_params,
        macs=graph.macs,
        dataset=dataset,
    )


_SECTIONS = {
    "model.input": "Model input",
    "training.dataset": "Dataset",
    "training.optimizer": "Optimizer",
    "training": "Training",
}


def field_title(key: str) -> str:
    """'training.loss' -> 'Training › Loss', as the project settings in the inspector show it."""
    section, _, name = key.rpartition(".")
    head = _SECTIONS.get(section)
    label = name.replace("_", " ")
    label = label[:1].upper() + label[1:]
    return f"{head} › {label}" if head else label


def empty_network_advice(dataset: DatasetInfo | None) -> str:
    """What to add to an empty network, for the dataset it will train on."""
    text = (
        "The network is empty: add a layer from the Layers panel "
        "(drag it onto the canvas, or double-click it)"
    )
    if dataset is None:
        return text + ", then connect the Input block to it."
    if dataset.task == "classification":
        want = f"a last Dense layer with {dataset.n_classes} units, one per class of {dataset.name}"
    else:
        size = 1
        for n in dataset.y_shape:
            size *= n
        want = (
            f"a last Dense layer with {size} unit{'s' * (size != 1)} for the {dataset.name} target"
        )
    return f"{text}: for example Dense layers, ending with {want}."


def fix_advice(exc: SpecError, *, empty: bool, dataset: DatasetInfo | None = None) -> str:
    """The line under a refused Train/Export: what to change and where to find it."""
    if empty:
        return empty_network_advice(dataset)
    if exc.layer:
        where = f"block '{exc.layer}'" + (
            f" (its {exc.field.replace('_', ' ')} field)"
            if exc.field and exc.field != "inputs"
            else ""
        )
        return f"Fix {where}: it is selected and shown in red."
    if exc.field:
        return (
            f"Fix the project setting {field_title(exc.field)}: "
            "it is shown in red in the inspector "
            "(selecting nothing on the canvas shows the project settings)."
        )
    return "Fix the red block or field, then try again."
