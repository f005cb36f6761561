"""PyTorch modules with Keras semantics, one per spec layer type.

PyTorch computes convolutions, pooling and batch norm channels-first (NCHW), the spec is
channels-last. The layout each layer type runs in is declared once, in torch_adapters' ``TORCH``
table (the code export reads it too); the network builder (torch_backend) inserts permutes only
where a tensor's layout must change, so a conv stack stays NCHW, and a Flatten after a conv
permutes to channels-last first, flattening in the spec's (Keras') order: the next Dense's kernel
then needs no row permutation. A module whose type has layout None is told the layout it is
handed (``channels_first``).

Keras details reproduced: TensorFlow's 'same' padding (the odd pixel after), average pooling
'same' that leaves the padding out of the mean, BatchNorm's biased moving variance and momentum
convention, Keras' GRU (reset_after) gate order via the weight conversion, one recurrent bias
(PyTorch's second bias held at zero and frozen).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.backends.plan import ELU_ALPHA, LEAKY_RELU_SLOPE, Node, same_padding
from engine.backends.torch_adapters import TORCH
from engine.spec.params import pair

Act = Callable[[Tensor], Tensor] | None


def activation(name: str, channel_dim: int = -1) -> Act:
    """The function for a spec activation; softmax runs on the spec's last (channel) axis."""
    table: dict[str, Act] = {
        "none": None,
        "relu": F.relu,
        "leaky_relu": functools.partial(F.leaky_relu, negative_slope=LEAKY_RELU_SLOPE),
        "elu": functools.partial(F.elu, alpha=ELU_ALPHA),
        "gelu": functools.partial(F.gelu, approximate="none"),  # Keras: approximate=False
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softmax": functools.partial(F.softmax, dim=channel_dim),
        "softplus": F.softplus,
        "swish": F.silu,
    }
    return table[name]


def _apply(act: Act, x: Tensor) -> Tensor:
    return x if act is None else act(x)


def _pads(node: Node, kernel: tuple[int, ...], strides: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) per spatial axis of the node's input, TF-style."""
    spatial = node.input_shapes[0][:-1]
    if node.params["padding"] != "same":
        return [(0, 0)] * len(spatial)
    return [same_padding(s, k, st) for s, k, st in zip(spatial, kernel, strides)]


def _split(pads: list[tuple[int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(symmetric padding for the op, extra F.pad list or ()) for the given (before, after)s."""
    if all(b == a for b, a in pads):
        return tuple(b for b, _ in pads), ()
    flat: list[int] = []
    for b, a in reversed(pads):  # F.pad lists the last axis first
        flat += [b, a]
    return tuple(0 for _ in pads), tuple(flat)


def _sizes(node: Node, rank: int, key: str) -> tuple[int, ...]:
    v = node.params[key]
    return (int(v),) if rank == 1 else pair(v)


class Dense(nn.Linear):
    def __init__(self, node: Node) -> None:
        p = node.params
        super().__init__(node.input_shapes[0][-1], p["units"], bias=p["use_bias"])
        self.act = activation(p["activation"])

    def forward(self, x: Tensor) -> Tensor:
        return _apply(self.act, F.linear(x, self.weight, self.bias))


class _ConvMixin:
    @staticmethod
    def _setup(node: Node, rank: int) -> tuple[dict, tuple[int, ...], Act]:
        p = node.params
        k, s = _sizes(node, rank, "kernel_size"), _sizes(node, rank, "strides")
        padding, extra = _split(_pads(node, k, s))
        args = {"kernel_size": k, "stride": s, "padding": padding, "bias": p["use_bias"]}
        return args, extra, activation(p["activation"], 1)


class Conv1D(_ConvMixin, nn.Conv1d):
    def __init__(self, node: Node) -> None:
        args, extra, act = self._setup(node, 1)
        nn.Conv1d.__init__(self, node.input_shapes[0][-1], node.params["filters"], **args)
        self.extra_pad, self.act = extra, act

    def forward(self, x: Tensor) -> Tensor:
        if self.extra_pad:
            x = F.pad(x, self.extra_pad)
        return _apply(self.act, self._conv_forward(x, self.weight, self.bias))


class Conv2D(_ConvMixin, nn.Conv2d):
    def __init__(self, node: Node) -> None:
        args, extra, act = self._setup(node, 2)
        nn.Conv2d.__init__(self, node.input_shapes[0][-1], node.params["filters"], **args)
        self.extra_pad, self.act = extra, act

    def forward(self, x: Tensor) -> Tensor:
        if self.extra_pad:
            x = F.pad(x, self.extra_pad)
        return _apply(self.act, self._conv_forward(x, self.weight, self.bias))


class Pool(nn.Module):
    """Max or average pooling, 1D or 2D (from the input's rank), with Keras' 'same' semantics."""

    is_max = False
    scale: Tensor | None  # a buffer: 1 / valid count per window, for padded average pooling

    def __init__(self, node: Node) -> None:
        super().__init__()
        rank = len(node.input_shapes[0]) - 1  # spatial axes
        self.kernel, self.stride = _sizes(node, rank, "pool_size"), _sizes(node, rank, "strides")
        pads = _pads(node, self.kernel, self.stride)
        self.padding, self.extra_pad = _split(pads)
        fns: dict[tuple[int, bool], Callable[..., Tensor]] = {
            (1, True): F.max_pool1d,
            (2, True): F.max_pool2d,
            (1, False): F.avg_pool1d,
            (2, False): F.avg_pool2d,
        }
        self.fn: Callable[..., Tensor] = fns[(rank, self.is_max)]
        scale = None
        if self.extra_pad and not self.is_max:
            # Zero-padded average pooling counts the padding; rescale by window / valid count.
            spatial = node.input_shapes[0][:-1]
            ones = F.pad(torch.ones(1, 1, *spatial), self.extra_pad)
            counts = self.fn(ones, self.kernel, self.stride)
            scale = 1.0 / counts
        self.register_buffer("scale", scale, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.is_max:
            if self.extra_pad:
                x = F.pad(x, self.extra_pad, value=-math.inf)
            return self.fn(x, self.kernel, self.stride, self.padding)
        if self.extra_pad:
            assert self.scale is not None  # set for padded average pooling
            return self.fn(F.pad(x, self.extra_pad), self.kernel, self.stride) * self.scale
        return self.fn(x, self.kernel, self.stride, self.padding, count_include_pad=False)


class MaxPool(Pool):
    is_max = True


class AvgPool(Pool):
    is_max = False


class GlobalAvgPool(nn.Module):
    """The mean over the spatial axes, wherever the channels are (no permute needed)."""

    def __init__(self, node: Node, channels_first: bool) -> None:
        super().__init__()
        rank = len(node.input_shapes[0])  # batch excluded
        self.dims = tuple(range(2, rank + 1)) if channels_first else tuple(range(1, rank))

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=self.dims)


class Flatten(nn.Module):
    def __init__(self, node: Node) -> None:  # node unused: every module is built from its node
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)


class Reshape(nn.Module):
    def __init__(self, node: Node) -> None:
        super().__init__()
        self.shape = tuple(node.output_shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.shape)


class Dropout(nn.Dropout):
    def __init__(self, node: Node, channels_first: bool) -> None:  # elementwise: either layout
        super().__init__(node.params["rate"])


class Activation(nn.Module):
    def __init__(self, node: Node, channels_first: bool) -> None:
        super().__init__()
        self.act = activation(node.params["activation"], 1 if channels_first else -1)

    def forward(self, x: Tensor) -> Tensor:
        return _apply(self.act, x)


class BatchNorm(nn.Module):
    """Keras' BatchNormalization: batch statistics in training, moving averages of the batch
    mean and *biased* variance (PyTorch's own BatchNorm keeps the unbiased one). Channels-first,
    as PyTorch's batch norm (its table entry says so): channels on axis 1."""

    running_mean: Tensor  # buffers (register_buffer), saved with the weights
    running_var: Tensor

    def __init__(self, node: Node) -> None:
        super().__init__()
        c = node.input_shapes[0][-1]
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))
        self.momentum = 1.0 - node.params["momentum"]  # PyTorch's convention
        self.eps = node.params["epsilon"]
        self.reduce = (0, *range(2, len(node.input_shapes[0]) + 1))

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            y = F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)
            with torch.no_grad():
                var, mean = torch.var_mean(x.detach(), dim=self.reduce, correction=0)
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var, self.momentum)
        else:
            y = F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return y


class LayerNorm(nn.LayerNorm):
    def __init__(self, node: Node) -> None:
        super().__init__(node.input_shapes[0][-1], eps=node.params["epsilon"])


class Embedding(nn.Embedding):
    def __init__(self, node: Node) -> None:
        super().__init__(node.params["input_dim"], node.params["output_dim"])

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.long())


class _Recurrent:
    """batch_first, one layer, Keras' single bias: bias_hh held at zero and frozen."""

    bias_hh_l0: Tensor  # the recurrent bias of the nn.RNNBase this is mixed into

    def _finish(self, return_sequences: bool) -> None:
        self.return_sequences = return_sequences
        with torch.no_grad():
            self.bias_hh_l0.zero_()
        if not isinstance(self, nn.GRU):
            self.bias_hh_l0.requires_grad_(False)

    def _pick(self, out: Tensor) -> Tensor:
        return out if self.return_sequences else out[:, -1]


class LSTM(_Recurrent, nn.LSTM):
    def __init__(self, node: Node) -> None:
        nn.LSTM.__init__(self, node.input_shapes[0][-1], node.params["units"], batch_first=True)
        self._finish(node.params["return_sequences"])

    # ignore[override]: returns the output alone, not torch's (output, state) pair.
    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return self._pick(nn.LSTM.forward(self, x)[0])


class GRU(_Recurrent, nn.GRU):
    """Keras' GRU with reset_after=True: both biases are real (trainable) weights there too."""

    def __init__(self, node: Node) -> None:
        nn.GRU.__init__(self, node.input_shapes[0][-1], node.params["units"], batch_first=True)
        self.return_sequences = node.params["return_sequences"]

    # ignore[override]: returns the output alone, not torch's (output, state) pair.
    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return self._pick(nn.GRU.forward(self, x)[0])


class SimpleRNN(_Recurrent, nn.RNN):
    def __init__(self, node: Node) -> None:
        nn.RNN.__init__(
            self,
            node.input_shapes[0][-1],
            node.params["units"],
            nonlinearity="tanh",
            batch_first=True,
        )
        self._finish(node.params["return_sequences"])

    # ignore[override]: returns the output alone, not torch's (output, state) pair.
    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return self._pick(nn.RNN.forward(self, x)[0])


class Add(nn.Module):
    def __init__(self, node: Node, channels_first: bool) -> None:  # elementwise: either layout
        super().__init__()

    def forward(self, *xs: Tensor) -> Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concatenate(nn.Module):
    def __init__(self, node: Node, channels_first: bool) -> None:
        super().__init__()
        rank = len(node.input_shapes[0])
        axis = node.params["axis"] % rank
        if channels_first and rank > 1:
            self.dim = 1 if axis == rank - 1 else axis + 2
        else:
            self.dim = axis + 1

    def forward(self, *xs: Tensor) -> Tensor:
        return torch.cat(xs, dim=self.dim)


class Permute(nn.Module):
    """Moves channels between last (spec) and first (PyTorch conv) for one tensor."""

    def __init__(self, rank: int, to_channels_first: bool) -> None:
        super().__init__()
        inner = list(range(1, rank))
        self.dims = (0, rank - 1, *inner[:-1]) if to_channels_first else (0, *range(2, rank), 1)

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(self.dims)


def make_module(node: Node, channels_first: bool) -> nn.Module:
    """The module for a plan node, from torch_adapters' table; ``channels_first``: the layout
    the node runs in (passed to the modules of layout-following types only)."""
    adapter = TORCH[node.type]
    cls = globals()[adapter.module]
    return cls(node, channels_first) if adapter.layout is None else cls(node)
