"""The project model: the project file, the layer registry and pure-Python shape inference."""

from engine.spec.errors import SpecError
from engine.spec.graph import GraphInfo, LayerInfo, infer, validate
from engine.spec.layer_types import GROUPS, LAYER_TYPES, LayerType
from engine.spec.project import FORMAT, Layer, Project, from_dict, read_project, save_project
from engine.spec.training import resolve_training

__all__ = [
    "FORMAT",
    "GROUPS",
    "LAYER_TYPES",
    "GraphInfo",
    "Layer",
    "LayerInfo",
    "LayerType",
    "Project",
    "SpecError",
    "from_dict",
    "infer",
    "read_project",
    "resolve_training",
    "save_project",
    "validate",
]
