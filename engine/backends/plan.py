"""What both backends build from, worked out once without any framework.

A ``Plan`` is the project's used layers in topological order with their resolved parameters and
shapes, the resolved loss and optimizer, and helpers whose answers must be identical on both
sides (TensorFlow's 'same' padding split, the target array each loss expects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.spec.graph import infer
from engine.spec.layer_types import Shape
from engine.spec.project import INPUT_ID, Project
from engine.spec.training import resolve_training

# The negative slope of leaky_relu in both frameworks (Keras 3's default; PyTorch's is 0.01).
LEAKY_RELU_SLOPE = 0.2
# The alpha of elu in both frameworks (both defaults are 1.0; stated so neither drifts).
ELU_ALPHA = 1.0


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    params: dict
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape


@dataclass(frozen=True)
class Plan:
    input_shape: Shape
    nodes: tuple[Node, ...]
    output_id: str
    loss: str
    optimizer: dict
    is_chain: bool  # every node reads the one before it (lets a backend skip the graph walk)

    @property
    def output_shape(self) -> Shape:
        return self.nodes[-1].output_shape

    @property
    def classification(self) -> bool:
        return self.loss in ("cross_entropy", "binary_cross_entropy")

    def target(self, y: np.ndarray) -> np.ndarray:
        """y as the loss wants it: int64 class ids, float32 [N, 1] for binary, float32 otherwise."""
        if self.loss == "cross_entropy":
            return y if y.dtype == np.int64 else y.astype(np.int64)
        if self.loss == "binary_cross_entropy":
            return y.reshape(-1, 1).astype(np.float32, copy=False)
        return y if y.dtype == np.float32 else y.astype(np.float32)

    @property
    def target_shape(self) -> Shape:
        """Per-sample shape of ``target(y)``."""
        if self.loss == "cross_entropy":
            return ()
        if self.loss == "binary_cross_entropy":
            return (1,)
        return self.output_shape


def make_plan(project: Project) -> Plan:
    """The plan of a project; raises the first spec error (the worker reports it)."""
    graph = infer(project, check_dataset=False)
    graph.raise_first()
    by_id = {layer.id: layer for layer in project.layers}
    nodes = []
    for lid in graph.order:
        info = graph.layers[lid]
        assert info.output_shape is not None
        nodes.append(
            Node(
                lid,
                info.type,
                by_id[lid].resolved(),
                tuple(info.inputs),
                tuple(tuple(s) for s in info.input_shapes),
                tuple(info.output_shape),
            )
        )
    # Every used layer is an ancestor of the output, so the output comes last.
    order = nodes
    assert order[-1].id == graph.output_id
    task = None
    if project.training.get("loss", "auto") == "auto":
        from engine.data.catalog import describe

        task = describe(project.training["dataset"], project.base_dir).task
    training = resolve_training(project.training, task)
    prev = INPUT_ID
    chain = True
    for n in order:
        chain = chain and n.inputs == (prev,)
        prev = n.id
    return Plan(
        tuple(project.input_shape),
        tuple(order),
        graph.output_id,
        training["loss"],
        training["optimizer"],
        chain,
    )


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding (before, after): the odd pixel goes after (right/bottom)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2
