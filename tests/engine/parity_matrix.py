"""The matched-mode parity matrix: every layer type of the registry under every optimizer offered.

Generated, not listed: the layer types come from ``LAYER_TYPES``, their variants from their own
boolean and choice parameters, the optimizers and their variants from ``OPTIMIZER_PARAMS``. A
layer type or optimizer added tomorrow is in the matrix without touching this file (a layer that
no host below can place fails ``test_matrix_places_every_layer_type`` with its name).

Each layer sits where it takes and passes gradients: input -> a bias-free tanh Dense (so layers
without weights still have trainable weights below them) -> the layer -> Flatten -> Dense head.
A layer that reads integer ids (Embedding) reads the model input directly; a merge layer joins
two such Dense branches. Dropout runs at rate 0 in the matrix; at its suggested rate it is a
separate case that must part (each framework draws its own masks).

Framework-free, shared by the test process and the framework workers (backend_worker.py).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from engine.spec.errors import SpecError
from engine.spec.graph import infer
from engine.spec.layer_types import LAYER_TYPES, LayerType
from engine.spec.project import Project, from_dict
from engine.spec.training import OPTIMIZER_PARAMS
from engine.weights import init_weights

STEPS = 20
BATCH = 8
CLASSES = 3
VOCAB = 12  # ids drawn for integer-input layers (input_dim is raised to it when smaller)
# Per-sample input shapes a layer is tried on, in order: the first one it accepts is used.
CONTEXTS: tuple[tuple[int, ...], ...] = ((5, 4), (5, 5, 3), (6,))
IDS_SHAPE = (6,)
_SKIP_VARIANTS = {"activation"}  # every activation is covered by the forward parity tests


@dataclass(frozen=True)
class Case:
    name: str
    project: Project
    int_inputs: bool
    expect_parity: bool = True


# ---- optimizers ---------------------------------------------------------------------------------


def optimizer_variants() -> dict[str, dict]:
    """Each optimizer with its defaults, and once more per feature that is off by default
    (momentum, nesterov...), switched on, with the other off-by-default numbers on too
    (nesterov means nothing without momentum)."""
    out: dict[str, dict] = {}
    for name, params in OPTIMIZER_PARAMS.items():
        adaptive = any(p.name == "epsilon" for p in params)
        base = {"name": name, "learning_rate": 0.01 if adaptive else 0.05}
        out[name] = base
        off_numbers = {
            p.name: _on_value(p)
            for p in params
            if p.kind == "float" and not p.default and p.name != "learning_rate"
        }
        for p in params:
            if p.kind == "bool" and not p.default:
                out[f"{name}_{p.name}"] = {**base, **off_numbers, p.name: True}
            elif p.name in off_numbers:
                out[f"{name}_{p.name}"] = {**base, p.name: off_numbers[p.name]}
    return out


def _on_value(p) -> float:
    hi = p.maximum if p.maximum is not None else 1.0
    return round(0.5 * hi, 6) if hi <= 1.0 else 0.5


# ---- layers -------------------------------------------------------------------------------------


def layer_variants(t: LayerType) -> dict[str, dict]:
    """The layer's suggested parameters, then one variant per non-default boolean or choice
    value."""
    base = dict(t.suggested)
    rate = t.param("rate")
    if rate is not None:
        base["rate"] = 0.0
    if t.int_inputs and "input_dim" in base:
        base["input_dim"] = max(int(base["input_dim"]), VOCAB)
    out = {"base": base}
    for p in t.params:
        if p.name in _SKIP_VARIANTS:
            continue
        if p.kind == "bool":
            out[f"{p.name}_{not p.default}".lower()] = {**base, p.name: not p.default}
        elif p.kind == "choice":
            for value in p.choices:
                if value != base.get(p.name, p.default):
                    out[f"{p.name}_{value}"] = {**base, p.name: value}
    return out


def _project(input_shape, layers: list[dict], optimizer: dict) -> Project:
    training = {
        "dataset": {"name": "xor"},
        "loss": "cross_entropy",
        "optimizer": optimizer,
        "seed": 3,
    }
    model = {"input": {"shape": list(input_shape)}, "layers": layers, "output": layers[-1]["id"]}
    return from_dict({"format": "twintrain/1", "model": model, "training": training})


def _pre(lid: str) -> dict:
    return {
        "id": lid,
        "type": "Dense",
        "units": 4,
        "activation": "tanh",
        "use_bias": False,
        "inputs": ["input"],
    }


def place(t: LayerType, params: dict, optimizer: dict) -> Project | None:
    """The layer in its host network, on the first input context it accepts (None: none)."""
    contexts = (IDS_SHAPE,) if t.int_inputs else CONTEXTS
    for shape in contexts:
        if t.int_inputs:
            body = [{"id": "x", "type": t.name, **params, "inputs": ["input"]}]
        elif t.min_inputs > 1:
            pres = [_pre(f"pre{i}") for i in range(t.min_inputs)]
            body = [*pres, {"id": "x", "type": t.name, **params, "inputs": [p["id"] for p in pres]}]
        else:
            body = [_pre("pre"), {"id": "x", "type": t.name, **params, "inputs": ["pre"]}]
        layers = [
            *body,
            {"id": "flat", "type": "Flatten", "inputs": ["x"]},
            {"id": "head", "type": "Dense", "units": CLASSES, "inputs": ["flat"]},
        ]
        try:
            project = _project(shape, layers, optimizer)
            infer(project, check_dataset=False).raise_first()
        except SpecError:
            continue
        return project
    return None


def cases() -> dict[str, Case]:
    out: dict[str, Case] = {}
    optimizers = optimizer_variants()
    for t in LAYER_TYPES.values():
        for vname, params in layer_variants(t).items():
            for oname, opt in optimizers.items():
                project = place(t, params, opt)
                if project is not None:
                    out[f"{t.name}[{vname}]/{oname}"] = Case(
                        f"{t.name}[{vname}]/{oname}", project, t.int_inputs
                    )
    # The model that first showed the Embedding gap (text classification), under every optimizer.
    for oname, opt in optimizers.items():
        text = _project(
            IDS_SHAPE,
            [
                {
                    "id": "emb",
                    "type": "Embedding",
                    "input_dim": VOCAB,
                    "output_dim": 6,
                    "inputs": ["input"],
                },
                {
                    "id": "lstm",
                    "type": "LSTM",
                    "units": 5,
                    "return_sequences": True,
                    "inputs": ["emb"],
                },
                {"id": "ln", "type": "LayerNorm", "inputs": ["lstm"]},
                {"id": "gap", "type": "GlobalAvgPool1D", "inputs": ["ln"]},
                {"id": "head", "type": "Dense", "units": CLASSES, "inputs": ["gap"]},
            ],
            opt,
        )
        out[f"text_lstm/{oname}"] = Case(f"text_lstm/{oname}", text, True)
    # Dropout at a real rate: each framework draws its own masks, so the curves must part.
    dropout = LAYER_TYPES["Dropout"]
    project = place(dropout, dict(dropout.suggested, rate=0.5), optimizers["sgd"])
    assert project is not None
    out["Dropout[rate_0.5]/sgd"] = Case(
        "Dropout[rate_0.5]/sgd", project, False, expect_parity=False
    )
    return out


# ---- weights and data ---------------------------------------------------------------------------


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def weights_for(case: Case) -> dict[str, dict[str, np.ndarray]]:
    graph = infer(case.project, check_dataset=False)
    return init_weights(case.project, graph, seed=11)


def batches_for(case: Case) -> list[tuple[np.ndarray, np.ndarray]]:
    """STEPS batches with labels from a fixed teacher; every fifth batch is partial."""
    rng = _rng(case.name.split("/")[0])  # the same data for a layer under every optimizer
    shape = tuple(case.project.input_shape)
    out = []
    for step in range(STEPS):
        n = BATCH if step % 5 != 4 else 5
        if case.int_inputs:
            x = rng.integers(0, VOCAB, (n, *shape)).astype(np.float32)
            score = np.stack([np.sin(x.sum(axis=1) * (k + 1)) for k in range(CLASSES)], axis=1)
        else:
            x = rng.normal(0, 1, (n, *shape)).astype(np.float32)
            score = x.reshape(n, -1)[:, :CLASSES]
        out.append((x, score.argmax(axis=1).astype(np.int64)))
    return out
