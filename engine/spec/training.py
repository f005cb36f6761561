"""The training section of a project: its keys, defaults and validation."""

from __future__ import annotations

from typing import Any

from engine.data import catalog
from engine.spec.errors import SpecError, closest
from engine.spec.params import Param

LOSSES = ("cross_entropy", "binary_cross_entropy", "mse", "mae")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")

TRAINING_PARAMS: tuple[Param, ...] = (
    Param(
        "loss",
        "choice",
        "auto",
        choices=("auto",) + LOSSES,
        doc="'auto': cross_entropy for classes, mse for regression.",
    ),
    Param("batch_size", "int", 32, minimum=1, maximum=1_000_000, doc="Samples per step."),
    Param("epochs", "int", 10, minimum=1, maximum=100_000, doc="Passes over the training split."),
    Param(
        "seed",
        "int",
        0,
        minimum=0,
        maximum=2**31 - 1,
        doc="Seeds the split, batch order and initial weights.",
    ),
    Param(
        "target",
        "choice",
        "labels",
        choices=("labels", "input"),
        doc="'input' trains the model to reproduce its input (an autoencoder).",
    ),
)

_LR = Param(
    "learning_rate",
    "float",
    0.001,
    minimum=0.0,
    maximum=100.0,
    exclusive_min=True,
    doc="Step size.",
)
_EPS = Param(
    "epsilon",
    "float",
    1e-7,
    minimum=0.0,
    maximum=1.0,
    exclusive_min=True,
    doc="Numerical stability term.",
)
_B1 = Param(
    "beta_1", "float", 0.9, minimum=0.0, maximum=1.0, exclusive_max=True, doc="First-moment decay."
)
_B2 = Param(
    "beta_2",
    "float",
    0.999,
    minimum=0.0,
    maximum=1.0,
    exclusive_max=True,
    doc="Second-moment decay.",
)
_MOMENTUM = Param(
    "momentum", "float", 0.0, minimum=0.0, maximum=1.0, exclusive_max=True, doc="Momentum."
)

OPTIMIZER_PARAMS: dict[str, tuple[Param, ...]] = {
    "sgd": (_LR, _MOMENTUM, Param("nesterov", "bool", False, doc="Nesterov momentum.")),
    "adam": (_LR, _B1, _B2, _EPS),
    "adamw": (
        _LR,
        _B1,
        _B2,
        _EPS,
        Param(
            "weight_decay", "float", 0.01, minimum=0.0, maximum=1.0, doc="Decoupled weight decay."
        ),
    ),
    "rmsprop": (
        _LR,
        Param(
            "rho",
            "float",
            0.9,
            minimum=0.0,
            maximum=1.0,
            exclusive_max=True,
            doc="Decay of the squared-gradient average.",
        ),
        _MOMENTUM,
        _EPS,
    ),
}


def _check_section(
    section: Any, params: tuple[Param, ...], where: str, fixed: tuple[str, ...] = ()
) -> None:
    if not isinstance(section, dict):
        raise SpecError(f"expected an object, got {type(section).__name__}", field=where)
    known = {p.name for p in params} | set(fixed)
    for key, value in section.items():
        if key.startswith("x-"):
            continue
        if key not in known:
            raise SpecError(
                f"unknown key '{key}'{closest(key, known)}",
                field=f"{where}.{key}" if where else key,
            )
        p = next((p for p in params if p.name == key), None)
        if p is not None:
            try:
                p.validate(value)
            except SpecError as exc:
                raise SpecError(exc.reason, field=f"{where}.{key}" if where else key) from None
    for p in params:
        if p.required and p.name not in section:
            raise SpecError(
                f"'{p.name}' is required", field=f"{where}.{p.name}" if where else p.name
            )


def validate_training(training: Any) -> None:
    """Raise SpecError for the first problem in a training section."""
    if not isinstance(training, dict):
        raise SpecError(f"expected an object, got {type(training).__name__}", field="training")
    _check_section(training, TRAINING_PARAMS, "training", fixed=("dataset", "optimizer"))
    if "dataset" not in training:
        raise SpecError(
            '\'dataset\' is required (for example {"name": "digits"})', field="training.dataset"
        )
    dataset = training["dataset"]
    if not isinstance(dataset, dict):
        raise SpecError('expected an object such as {"name": "digits"}', field="training.dataset")
    name = dataset.get("name")
    if not isinstance(name, str) or name not in catalog.NAMES:
        hint = closest(name, catalog.NAMES) if isinstance(name, str) else ""
        raise SpecError(
            f"unknown dataset {name!r}{hint}; known: {', '.join(catalog.NAMES)}",
            field="training.dataset.name",
        )
    _check_section(
        dataset, catalog.COMMON + catalog.DATASET_PARAMS[name], "training.dataset", fixed=("name",)
    )
    optimizer = training.get("optimizer", {"name": "adam"})
    if not isinstance(optimizer, dict):
        raise SpecError('expected an object such as {"name": "adam"}', field="training.optimizer")
    oname = optimizer.get("name", "adam")
    if not isinstance(oname, str) or oname not in OPTIMIZERS:
        hint = closest(oname, OPTIMIZERS) if isinstance(oname, str) else ""
        raise SpecError(
            f"unknown optimizer {oname!r}{hint}; known: {', '.join(OPTIMIZERS)}",
            field="training.optimizer.name",
        )
    _check_section(optimizer, OPTIMIZER_PARAMS[oname], "training.optimizer", fixed=("name",))


def resolve_training(training: dict, task: str | None = None) -> dict:
    """A validated training section with every default filled in.

    ``task`` (from the dataset) decides the 'auto' loss: cross_entropy for classes, mse otherwise.
    """
    out: dict[str, Any] = {}
    for p in TRAINING_PARAMS:
        out[p.name] = training.get(p.name, p.default)
    if out["loss"] == "auto":
        out["loss"] = (
            "cross_entropy" if task == "classification" and out["target"] == "labels" else "mse"
        )
    out["dataset"] = catalog.resolve(training["dataset"])
    optimizer = dict(training.get("optimizer", {}))
    oname = optimizer.get("name", "adam")
    resolved = {"name": oname}
    for p in OPTIMIZER_PARAMS[oname]:
        resolved[p.name] = optimizer.get(p.name, p.default)
    out["optimizer"] = resolved
    return out
