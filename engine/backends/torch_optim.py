"""TwinTrain's matched update formulas, as PyTorch optimizers.

In ``optimizer_mode="matched"`` both frameworks must run one update formula, or the curves part
for reasons that have nothing to do with the frameworks (stock Adam differs by 4e-3 in loss after
100 steps because the two put epsilon in different places). TwinTrain's formulas are Keras 3's,
so the TensorFlow side runs Keras' stock optimizers and the PyTorch side runs these, which
reproduce them operation for operation (t is the step number starting at 1, g the gradient):

- SGD:       momentum 0:    w <- w - lr * g
             momentum m:    v <- m * v - lr * g;  w <- w + v
             nesterov:      v <- m * v - lr * g;  w <- w + m * v - lr * g
             (PyTorch stock: b <- m * b + g; w <- w - lr * b; nesterov w <- w - lr * (g + m * b))
- Adam:      m <- m + (g - m) * (1 - b1);  v <- v + (g^2 - v) * (1 - b2)
             alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
             w <- w - alpha * m / (sqrt(v) + eps)
             (PyTorch stock adds eps to sqrt(v) / sqrt(1 - b2^t), after the bias correction)
- AdamW:     w <- w - w * wd * lr first, then the Adam step with the gradient taken before it
             (the same order as PyTorch's stock AdamW)
- RMSprop:   v <- rho * v + (1 - rho) * g^2;  d = lr * g / sqrt(v + eps)
             momentum 0: w <- w - d;   momentum m: b <- m * b + d;  w <- w - b
             (PyTorch stock divides by sqrt(v) + eps, and applies lr after the momentum buffer)

Scalars (the bias corrections) are computed in float32, as Keras does. The updates run the way
PyTorch's stock optimizers run by default, so matched mode costs what native mode costs: as
multi-tensor (``torch._foreach_*``) operations where PyTorch would pick them (every parameter
on a GPU), else one tensor at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import Tensor

_f32 = np.float32
# A list of tensors, or the tuple torch._foreach_* returns.
Tensors = list[Tensor] | tuple[Tensor, ...]


class _ListOps:
    """In-place operations over lists of tensors: multi-tensor kernels or a per-tensor loop."""

    def __init__(self, foreach: bool) -> None:
        self.foreach = foreach

    def mul_(self, xs: Tensors, s: float) -> None:
        if self.foreach:
            torch._foreach_mul_(xs, s)
        else:
            for x in xs:
                x.mul_(s)

    def add_(self, xs: Tensors, ys: Tensors, alpha: float = 1.0) -> None:
        if self.foreach:
            torch._foreach_add_(xs, ys, alpha=alpha)
        else:
            for x, y in zip(xs, ys):
                x.add_(y, alpha=alpha)

    def sub_(self, xs: Tensors, ys: Tensors) -> None:
        if self.foreach:
            torch._foreach_sub_(xs, ys)
        else:
            for x, y in zip(xs, ys):
                x.sub_(y)

    def lerp_(self, xs: Tensors, ys: Tensors, w: float) -> None:
        if self.foreach:
            torch._foreach_lerp_(xs, ys, w)
        else:
            for x, y in zip(xs, ys):
                x.lerp_(y, w)

    def addcmul_(self, xs: Tensors, a: Tensors, b: Tensors, value: float) -> None:
        if self.foreach:
            torch._foreach_addcmul_(xs, a, b, value=value)
        else:
            for x, p, q in zip(xs, a, b):
                x.addcmul_(p, q, value=value)

    def scaled(self, xs: Tensors, s: float) -> Tensors:
        """New tensors x * s."""
        return torch._foreach_mul(xs, s) if self.foreach else [x * s for x in xs]

    def squares(self, xs: Tensors) -> Tensors:
        return torch._foreach_mul(xs, xs) if self.foreach else [x * x for x in xs]

    def sqrt_plus(self, xs: Tensors, eps: float, inside: bool) -> Tensors:
        """New tensors sqrt(x + eps) (inside) or sqrt(x) + eps."""
        if self.foreach:
            if inside:
                out = torch._foreach_add(xs, eps)
                torch._foreach_sqrt_(out)
            else:
                out = torch._foreach_sqrt(xs)
                torch._foreach_add_(out, eps)
            return out
        return [(x + eps).sqrt_() if inside else x.sqrt().add_(eps) for x in xs]

    def div_(self, xs: Tensors, ys: Tensors) -> None:
        if self.foreach:
            torch._foreach_div_(xs, ys)
        else:
            for x, y in zip(xs, ys):
                x.div_(y)


class _KerasOptimizer(torch.optim.Optimizer):
    """Common bookkeeping: one param group, state lists built lazily, a step counter."""

    def __init__(self, params: Iterable[Tensor], defaults: dict) -> None:
        super().__init__(params, defaults)
        self.iterations = 0
        plist = [p for g in self.param_groups for p in g["params"]]
        # PyTorch's own default: multi-tensor kernels only when every parameter is on a GPU.
        self.ops = _ListOps(all(p.device.type == "cuda" for p in plist))

    def _params_and_grads(self) -> tuple[list[Tensor], list[Tensor]]:
        params, grads = [], []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    params.append(p)
                    grads.append(p.grad)
        return params, grads

    def _slots(self, params: list[Tensor], name: str) -> list[Tensor]:
        out = []
        for p in params:
            state = self.state[p]
            if name not in state:
                state[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
            out.append(state[name])
        return out


class KerasSGD(_KerasOptimizer):
    def __init__(
        self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, nesterov: bool = False
    ) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov})

    # ignore[override]: no closure overload, as the matched formulas never re-evaluate the loss.
    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        group, ops = self.param_groups[0], self.ops
        lr, mom = float(_f32(group["lr"])), float(_f32(group["momentum"]))
        params, grads = self._params_and_grads()
        if not params:
            return None
        if mom == 0.0:
            ops.add_(params, grads, alpha=-lr)
        else:
            vs = self._slots(params, "velocity")
            ops.mul_(vs, mom)
            ops.add_(vs, grads, alpha=-lr)
            if group["nesterov"]:
                upd = ops.scaled(vs, mom)
                ops.add_(upd, grads, alpha=-lr)
                ops.add_(params, upd)
            else:
                ops.add_(params, vs)
        self.iterations += 1
        return None


class KerasAdam(_KerasOptimizer):
    """Adam, and AdamW when weight_decay > 0 (decoupled, applied before the Adam step)."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        beta_1: float,
        beta_2: float,
        epsilon: float,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(
            params,
            {
                "lr": lr,
                "beta_1": beta_1,
                "beta_2": beta_2,
                "epsilon": epsilon,
                "weight_decay": weight_decay,
            },
        )

    # ignore[override]: no closure overload, as the matched formulas never re-evaluate the loss.
    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        g, ops = self.param_groups[0], self.ops
        params, grads = self._params_and_grads()
        if not params:
            return None
        lr, b1, b2 = _f32(g["lr"]), _f32(g["beta_1"]), _f32(g["beta_2"])
        t = _f32(self.iterations + 1)
        alpha = lr * np.sqrt(_f32(1) - b2**t) / (_f32(1) - b1**t)
        if g["weight_decay"]:
            decay = ops.scaled(params, float(_f32(g["weight_decay"])))
            ops.mul_(decay, float(lr))
            ops.sub_(params, decay)
        ms, vs = self._slots(params, "m"), self._slots(params, "v")
        ops.lerp_(ms, grads, float(_f32(1 - g["beta_1"])))
        ops.lerp_(vs, ops.squares(grads), float(_f32(1 - g["beta_2"])))
        denom = ops.sqrt_plus(vs, float(_f32(g["epsilon"])), inside=False)
        upd = ops.scaled(ms, float(alpha))
        ops.div_(upd, denom)
        ops.sub_(params, upd)
        self.iterations += 1
        return None


class KerasRMSprop(_KerasOptimizer):
    def __init__(
        self, params: Iterable[Tensor], lr: float, rho: float, momentum: float, epsilon: float
    ) -> None:
        super().__init__(params, {"lr": lr, "rho": rho, "momentum": momentum, "epsilon": epsilon})

    # ignore[override]: no closure overload, as the matched formulas never re-evaluate the loss.
    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        g, ops = self.param_groups[0], self.ops
        params, grads = self._params_and_grads()
        if not params:
            return None
        vs = self._slots(params, "velocity")
        ops.mul_(vs, float(_f32(g["rho"])))
        ops.addcmul_(vs, grads, grads, value=float(_f32(1 - g["rho"])))
        denom = ops.sqrt_plus(vs, float(_f32(g["epsilon"])), inside=True)
        inc = ops.scaled(grads, float(_f32(g["lr"])))
        ops.div_(inc, denom)
        if g["momentum"] > 0:
            bs = self._slots(params, "momentum")
            ops.mul_(bs, float(_f32(g["momentum"])))
            ops.add_(bs, inc)
            ops.sub_(params, bs)
        else:
            ops.sub_(params, inc)
        self.iterations += 1
        return None


def make_optimizer(params: Sequence[Tensor], spec: dict, mode: str) -> torch.optim.Optimizer:
    """The optimizer for a resolved optimizer section: matched (Keras formulas) or stock PyTorch."""
    name, lr = spec["name"], spec["learning_rate"]
    matched = mode == "matched"
    if name == "sgd":
        if matched:
            return KerasSGD(params, lr, spec["momentum"], spec["nesterov"])
        return torch.optim.SGD(params, lr=lr, momentum=spec["momentum"], nesterov=spec["nesterov"])
    if name in ("adam", "adamw"):
        wd = spec.get("weight_decay", 0.0) if name == "adamw" else 0.0
        betas = (spec["beta_1"], spec["beta_2"])
        if matched:
            return KerasAdam(params, lr, *betas, spec["epsilon"], wd)
        cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
        return cls(params, lr=lr, betas=betas, eps=spec["epsilon"], weight_decay=wd)
    if name == "rmsprop":
        if matched:
            return KerasRMSprop(params, lr, spec["rho"], spec["momentum"], spec["epsilon"])
        return torch.optim.RMSprop(
            params, lr=lr, alpha=spec["rho"], eps=spec["epsilon"], momentum=spec["momentum"]
        )
    raise ValueError(f"unknown optimizer '{name}'")
