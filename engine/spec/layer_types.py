"""The registry of layer types: parameters, defaults, ranges, shape, weight and MAC rules.

One declaration per layer type. The loader validates files with it, shape inference runs its
rules, the GUI palette and inspector are generated from it, and the backends build from it.

Shapes are per sample and channels-last (an image is [H, W, C], a sequence [T, F]).
Parameter counts follow one convention for the spec: every weight TwinTrain draws and loads,
trainable or not (what Keras' ``count_params`` reports). PyTorch counts differently for some
layers and each such layer says how and why in ``torch_params``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.spec.params import ACTIVATIONS, Param, pair

Shape = tuple[int, ...]
# A layer's parameters, resolved (every default filled in) before a rule sees them.
Params = dict[str, Any]
ShapeRule = Callable[[list[Shape], Params], Shape]
CountRule = Callable[[list[Shape], Params], int]
MacsRule = Callable[[list[Shape], Shape, Params], int]

GROUPS = ("Core", "Convolution", "Pooling", "Recurrent", "Normalization", "Merge", "Activation")


class ShapeError(ValueError):
    """A layer cannot take the shape it is given; ``field`` names the parameter at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TorchCount:
    """PyTorch's own parameter count for a layer, when it differs from the spec's, and why."""

    params: int
    note: str


@dataclass(frozen=True)
class LayerType:
    name: str
    group: str
    params: tuple[Param, ...]
    shape: Callable[[list[Shape], dict], Shape]
    weights: Callable[[list[Shape], dict], int] = lambda ins, p: 0
    macs: Callable[[list[Shape], Shape, dict], int] = lambda ins, out, p: 0
    torch_params: Callable[[list[Shape], dict], TorchCount | None] = lambda ins, p: None
    min_inputs: int = 1
    max_inputs: int = 1
    doc: str = ""
    # Parameters shown on the canvas block, in order.
    key_params: tuple[str, ...] = ()
    # Values the GUI fills in for required parameters of a freshly dropped block.
    suggested: dict = field(default_factory=dict)
    # Takes integer ids (an Embedding): it must read the model input, nothing trainable before it.
    int_inputs: bool = False

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def resolve(self, given: dict) -> dict:
        """The given parameters with every default filled in (strides default to pool_size)."""
        out = {}
        for p in self.params:
            if p.name in given:
                out[p.name] = given[p.name]
            elif not p.required:
                out[p.name] = p.default
        if "pool_size" in out and out.get("strides") is None:
            out["strides"] = out["pool_size"]
        return out


def _prod(shape: Iterable[int]) -> int:
    return math.prod(int(s) for s in shape)


def _rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) != rank:
        raise ShapeError(f"expects a {what} input of rank {rank}, got shape {list(shape)}")


def _spatial_out(size: int, kernel: int, stride: int, padding: str, field_name: str) -> int:
    if padding == "same":
        return -(-size // stride)
    if kernel > size:
        raise ShapeError(
            f"{field_name} {kernel} is larger than its input ({size}); "
            "use padding 'same' or a smaller "
            f"{field_name}",
            field=field_name,
        )
    return (size - kernel) // stride + 1


# ---- common parameter declarations -------------------------------------------------------------


def _activation(default: str | None = "none") -> Param:
    if default is None:
        return Param("activation", "choice", choices=ACTIVATIONS, doc="Activation function.")
    return Param(
        "activation",
        "choice",
        default,
        choices=ACTIVATIONS,
        doc="Activation applied to the output.",
    )


_USE_BIAS = Param("use_bias", "bool", True, doc="Add a learned bias.")
_PADDING = Param(
    "padding", "choice", "valid", choices=("valid", "same"), doc="'same' keeps the size (stride 1)."
)


def _size(name: str, default: int | None = None, doc: str = "", maximum: int = 4096) -> Param:
    if default is None:
        return Param(name, "int_or_pair", minimum=1, maximum=maximum, doc=doc)
    return Param(name, "int_or_pair", default, minimum=1, maximum=maximum, doc=doc)


# ---- Core --------------------------------------------------------------------------------------


def _dense_shape(ins: list[Shape], p: Params) -> Shape:
    (x,) = ins
    return (*x[:-1], p["units"])


DENSE = LayerType(
    "Dense",
    "Core",
    (
        Param("units", "int", minimum=1, maximum=1 << 20, doc="Number of output features."),
        _activation(),
        _USE_BIAS,
    ),
    shape=_dense_shape,
    weights=lambda ins, p: ins[0][-1] * p["units"] + (p["units"] if p["use_bias"] else 0),
    macs=lambda ins, out, p: _prod(ins[0][:-1]) * ins[0][-1] * p["units"],
    doc="Fully connected layer on the last axis.",
    key_params=("units", "activation"),
    suggested={"units": 32},
)


def _flatten_shape(ins: list[Shape], p: Params) -> Shape:
    return (_prod(ins[0]),)


FLATTEN = LayerType(
    "Flatten", "Core", (), shape=_flatten_shape, doc="Flattens each sample to one axis."
)


def _reshape_shape(ins: list[Shape], p: Params) -> Shape:
    (x,) = ins
    target = list(p["shape"])
    total = _prod(x)
    if -1 in target:
        known = _prod(t for t in target if t != -1)
        if total % known:
            raise ShapeError(
                f"cannot reshape {list(x)} ({total} values) into {target}", field="shape"
            )
        target[target.index(-1)] = total // known
    if _prod(target) != total:
        raise ShapeError(
            f"cannot reshape {list(x)} ({total} values) into {target} ({_prod(target)} values)",
            field="shape",
        )
    return tuple(target)


RESHAPE = LayerType(
    "Reshape",
    "Core",
    (
        Param(
            "shape",
            "shape",
            doc="Target shape per sample; one entry may be -1.",
            extra={"allow_minus_one": True},
        ),
    ),
    shape=_reshape_shape,
    doc="Gives each sample a new shape with the same number of values.",
    key_params=("shape",),
    suggested={"shape": [-1]},
)

DROPOUT = LayerType(
    "Dropout",
    "Core",
    (
        Param(
            "rate",
            "float",
            minimum=0.0,
            maximum=1.0,
            exclusive_max=True,
            doc="Fraction of inputs dropped in training.",
        ),
    ),
    shape=lambda ins, p: ins[0],
    doc="Randomly zeroes inputs during training (each framework draws its own mask).",
    key_params=("rate",),
    suggested={"rate": 0.2},
)


def _embedding_shape(ins: list[Shape], p: Params) -> Shape:
    return (*ins[0], p["output_dim"])


EMBEDDING = LayerType(
    "Embedding",
    "Core",
    (
        Param(
            "input_dim",
            "int",
            minimum=1,
            maximum=1 << 22,
            doc="Vocabulary size (largest index + 1).",
        ),
        Param(
            "output_dim", "int", minimum=1, maximum=1 << 16, doc="Size of each embedding vector."
        ),
    ),
    shape=_embedding_shape,
    weights=lambda ins, p: p["input_dim"] * p["output_dim"],
    doc="Maps integer indices to learned vectors.",
    key_params=("input_dim", "output_dim"),
    suggested={"input_dim": 16, "output_dim": 8},
    int_inputs=True,
)

# ---- Convolution -------------------------------------------------------------------------------


def _conv_shape(rank: int) -> ShapeRule:
    def rule(ins: list[Shape], p: Params) -> Shape:
        (x,) = ins
        _rank(x, rank + 1, "[T, C]" if rank == 1 else "[H, W, C]")
        if rank == 1:
            k, s = p["kernel_size"], p["strides"]
            if isinstance(k, list) or isinstance(s, list):
                raise ShapeError("Conv1D takes a single integer size", field="kernel_size")
            return (_spatial_out(x[0], k, s, p["padding"], "kernel_size"), p["filters"])
        (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["strides"])
        return (
            _spatial_out(x[0], kh, sh, p["padding"], "kernel_size"),
            _spatial_out(x[1], kw, sw, p["padding"], "kernel_size"),
            p["filters"],
        )

    return rule


def _conv_weights(rank: int) -> CountRule:
    def rule(ins: list[Shape], p: Params) -> int:
        k = p["kernel_size"] if rank == 1 else _prod(pair(p["kernel_size"]))
        return k * ins[0][-1] * p["filters"] + (p["filters"] if p["use_bias"] else 0)

    return rule


def _conv_macs(rank: int) -> MacsRule:
    def rule(ins: list[Shape], out: Shape, p: Params) -> int:
        k = p["kernel_size"] if rank == 1 else _prod(pair(p["kernel_size"]))
        return _prod(out[:-1]) * k * ins[0][-1] * p["filters"]

    return rule


def _conv(name: str, rank: int) -> LayerType:
    size_max = 4096
    params = (
        Param("filters", "int", minimum=1, maximum=1 << 16, doc="Number of output channels."),
        Param(
            "kernel_size",
            "int" if rank == 1 else "int_or_pair",
            minimum=1,
            maximum=size_max,
            doc="Size of the kernel" + ("." if rank == 1 else " (int or [h, w])."),
        ),
        Param(
            "strides",
            "int" if rank == 1 else "int_or_pair",
            1,
            minimum=1,
            maximum=size_max,
            doc="Step between windows.",
        ),
        _PADDING,
        _activation(),
        _USE_BIAS,
    )
    return LayerType(
        name,
        "Convolution",
        params,
        shape=_conv_shape(rank),
        weights=_conv_weights(rank),
        macs=_conv_macs(rank),
        doc=f"{rank}D convolution over channels-last input.",
        key_params=("filters", "kernel_size", "strides", "padding", "activation"),
        suggested={"filters": 8, "kernel_size": 3},
    )


CONV1D = _conv("Conv1D", 1)
CONV2D = _conv("Conv2D", 2)

# ---- Pooling -----------------------------------------------------------------------------------


def _pool_shape(rank: int) -> ShapeRule:
    def rule(ins: list[Shape], p: Params) -> Shape:
        (x,) = ins
        _rank(x, rank + 1, "[T, C]" if rank == 1 else "[H, W, C]")
        if rank == 1:
            k, s = p["pool_size"], p["strides"]
            if isinstance(k, list) or isinstance(s, list):
                raise ShapeError("1D pooling takes a single integer size", field="pool_size")
            return (_spatial_out(x[0], k, s, p["padding"], "pool_size"), x[1])
        (kh, kw), (sh, sw) = pair(p["pool_size"]), pair(p["strides"])
        return (
            _spatial_out(x[0], kh, sh, p["padding"], "pool_size"),
            _spatial_out(x[1], kw, sw, p["padding"], "pool_size"),
            x[2],
        )

    return rule


def _pool(name: str, rank: int, kind: str) -> LayerType:
    t = "int" if rank == 1 else "int_or_pair"
    return LayerType(
        name,
        "Pooling",
        (
            Param("pool_size", t, 2, minimum=1, maximum=4096, doc="Window size."),
            Param(
                "strides",
                t,
                None,
                minimum=1,
                maximum=4096,
                nullable=True,
                doc="Step between windows (default: pool_size).",
            ),
            _PADDING,
        ),
        shape=_pool_shape(rank),
        doc=f"{rank}D {kind} pooling.",
        key_params=("pool_size", "strides"),
    )


MAXPOOL2D = _pool("MaxPool2D", 2, "max")
AVGPOOL2D = _pool("AvgPool2D", 2, "average")
MAXPOOL1D = _pool("MaxPool1D", 1, "max")
AVGPOOL1D = _pool("AvgPool1D", 1, "average")


def _gap_shape(rank: int) -> ShapeRule:
    def rule(ins: list[Shape], p: Params) -> Shape:
        (x,) = ins
        _rank(x, rank + 1, "[T, C]" if rank == 1 else "[H, W, C]")
        return (x[-1],)

    return rule


GAP2D = LayerType(
    "GlobalAvgPool2D", "Pooling", (), shape=_gap_shape(2), doc="Mean over height and width."
)
GAP1D = LayerType("GlobalAvgPool1D", "Pooling", (), shape=_gap_shape(1), doc="Mean over time.")

# ---- Normalization -----------------------------------------------------------------------------

BATCHNORM = LayerType(
    "BatchNorm",
    "Normalization",
    (
        Param(
            "momentum",
            "float",
            0.99,
            minimum=0.0,
            maximum=1.0,
            doc="Moving-average momentum, Keras convention (PyTorch gets 1 - momentum).",
        ),
        Param(
            "epsilon",
            "float",
            0.001,
            minimum=0.0,
            maximum=1.0,
            exclusive_min=True,
            doc="Added to the variance.",
        ),
    ),
    shape=lambda ins, p: ins[0],
    weights=lambda ins, p: 4 * ins[0][-1],
    macs=lambda ins, out, p: _prod(ins[0]),
    torch_params=lambda ins, p: TorchCount(
        2 * ins[0][-1],
        "PyTorch keeps the moving mean and variance as buffers, not parameters",
    ),
    doc="Normalizes each channel (last axis) over the batch.",
    key_params=("momentum",),
)

LAYERNORM = LayerType(
    "LayerNorm",
    "Normalization",
    (
        Param(
            "epsilon",
            "float",
            0.001,
            minimum=0.0,
            maximum=1.0,
            exclusive_min=True,
            doc="Added to the variance.",
        ),
    ),
    shape=lambda ins, p: ins[0],
    weights=lambda ins, p: 2 * ins[0][-1],
    macs=lambda ins, out, p: _prod(ins[0]),
    doc="Normalizes each sample over the last axis.",
)

# ---- Recurrent ---------------------------------------------------------------------------------


def _rnn_shape(ins: list[Shape], p: Params) -> Shape:
    (x,) = ins
    _rank(x, 2, "sequence [T, F]")
    return (x[0], p["units"]) if p["return_sequences"] else (p["units"],)


def _rnn(name: str, gates: int, keras_biases: int, torch_biases: int, doc: str) -> LayerType:
    def weights(ins: list[Shape], p: Params) -> int:
        f, u = ins[0][-1], p["units"]
        return gates * (f * u + u * u) + keras_biases * gates * u

    def torch_params(ins: list[Shape], p: Params) -> TorchCount | None:
        if torch_biases == keras_biases:
            return None
        f, u = ins[0][-1], p["units"]
        return TorchCount(
            gates * (f * u + u * u) + torch_biases * gates * u,
            f"PyTorch's {name} keeps two bias vectors (input and recurrent), Keras one; "
            "TwinTrain holds the second at zero",
        )

    return LayerType(
        name,
        "Recurrent",
        (
            Param("units", "int", minimum=1, maximum=1 << 14, doc="Size of the hidden state."),
            Param(
                "return_sequences", "bool", False, doc="Output every time step, not only the last."
            ),
        ),
        shape=_rnn_shape,
        weights=weights,
        macs=lambda ins, out, p: ins[0][0] * gates * (ins[0][-1] * p["units"] + p["units"] ** 2),
        torch_params=torch_params,
        doc=doc,
        key_params=("units", "return_sequences"),
        suggested={"units": 16},
    )


LSTM = _rnn("LSTM", 4, 1, 2, "Long short-term memory over a sequence [T, F].")
# Keras' GRU (reset_after=True, its default) and PyTorch's GRU both keep two bias vectors.
GRU = _rnn(
    "GRU", 3, 2, 2, "Gated recurrent unit over a sequence [T, F] (reset gate after the matmul)."
)
SIMPLERNN = _rnn("SimpleRNN", 1, 1, 2, "Plain tanh recurrent layer over a sequence [T, F].")

# ---- Merge -------------------------------------------------------------------------------------


def _add_shape(ins: list[Shape], p: Params) -> Shape:
    first = ins[0]
    for other in ins[1:]:
        if other != first:
            raise ShapeError(
                "Add needs inputs of one shape, got " + " and ".join(str(list(s)) for s in ins),
                field="inputs",
            )
    return first


def _concat_shape(ins: list[Shape], p: Params) -> Shape:
    rank = len(ins[0])
    axis = p["axis"]
    if not -rank <= axis < rank:
        raise ShapeError(f"axis {axis} is out of range for inputs of rank {rank}", field="axis")
    axis %= rank
    for other in ins[1:]:
        if len(other) != rank or any(
            a != b for i, (a, b) in enumerate(zip(other, ins[0], strict=False)) if i != axis
        ):
            raise ShapeError(
                f"Concatenate on axis {p['axis']} needs inputs equal on every other axis, got "
                + " and ".join(str(list(s)) for s in ins),
                field="inputs",
            )
    out = list(ins[0])
    out[axis] = sum(s[axis] for s in ins)
    return tuple(out)


ADD = LayerType(
    "Add",
    "Merge",
    (),
    shape=_add_shape,
    min_inputs=2,
    max_inputs=64,
    doc="Element-wise sum of two or more inputs of one shape.",
)
CONCATENATE = LayerType(
    "Concatenate",
    "Merge",
    (
        Param(
            "axis",
            "int",
            -1,
            minimum=-8,
            maximum=7,
            doc="Axis to join along (per sample; -1 is the last).",
        ),
    ),
    shape=_concat_shape,
    min_inputs=2,
    max_inputs=64,
    doc="Joins two or more inputs along one axis.",
    key_params=("axis",),
)

# ---- Activation --------------------------------------------------------------------------------

ACTIVATION = LayerType(
    "Activation",
    "Activation",
    (_activation(None),),
    shape=lambda ins, p: ins[0],
    doc="Applies an activation function.",
    key_params=("activation",),
    suggested={"activation": "relu"},
)

LAYER_TYPES: dict[str, LayerType] = {
    t.name: t
    for t in (
        DENSE,
        FLATTEN,
        RESHAPE,
        DROPOUT,
        EMBEDDING,
        CONV1D,
        CONV2D,
        MAXPOOL2D,
        AVGPOOL2D,
        MAXPOOL1D,
        AVGPOOL1D,
        GAP2D,
        GAP1D,
        BATCHNORM,
        LAYERNORM,
        LSTM,
        GRU,
        SIMPLERNN,
        ADD,
        CONCATENATE,
        ACTIVATION,
    )
}


def layer_type(name: str) -> LayerType | None:
    return LAYER_TYPES.get(name)
