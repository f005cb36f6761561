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

Scalars (the bias corrections) are computed in float32, as Keras does, and every update runs as
multi-tensor (``torch._foreach_*``) operations so the matched optimizer costs what PyTorch's own
foreach implementations cost.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

_f32 = np.float32


class _KerasOptimizer(torch.optim.Optimizer):
    """Common bookkeeping: one param group, state lists built lazily, a step counter."""

    def __init__(self, params: Iterable[Tensor], defaults: dict) -> None:
        super().__init__(params, defaults)
        self.iterations = 0

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
    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        group = self.param_groups[0]
        lr, mom = float(_f32(group["lr"])), float(_f32(group["momentum"]))
        params, grads = self._params_and_grads()
        if not params:
            return None
        if mom == 0.0:
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            vs = self._slots(params, "velocity")
            torch._foreach_mul_(vs, mom)
            torch._foreach_add_(vs, grads, alpha=-lr)
            if group["nesterov"]:
                upd = torch._foreach_mul(vs, mom)
                torch._foreach_add_(upd, grads, alpha=-lr)
                torch._foreach_add_(params, upd)
            else:
                torch._foreach_add_(params, vs)
        self.iterations += 1
        return None


class KerasAdam(_KerasOptimizer):
    """Adam, and AdamW when weight_decay > 0 (decoupled, applied before the Adam step)."""

    def __init__(self, params: Iterable[Tensor], lr: float, beta_1: float, beta_2: float, epsilon: float,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon,
                                  "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        g = self.param_groups[0]
        params, grads = self._params_and_grads()
        if not params:
            return None
        lr, b1, b2 = _f32(g["lr"]), _f32(g["beta_1"]), _f32(g["beta_2"])
        t = _f32(self.iterations + 1)
        alpha = lr * np.sqrt(_f32(1) - b2**t) / (_f32(1) - b1**t)
        if g["weight_decay"]:
            decay = torch._foreach_mul(params, float(_f32(g["weight_decay"])))
            torch._foreach_mul_(decay, float(lr))
            torch._foreach_sub_(params, decay)
        ms, vs = self._slots(params, "m"), self._slots(params, "v")
        torch._foreach_lerp_(ms, grads, float(_f32(1 - g["beta_1"])))
        torch._foreach_lerp_(vs, torch._foreach_mul(grads, grads), float(_f32(1 - g["beta_2"])))
        denom = torch._foreach_sqrt(vs)
        torch._foreach_add_(denom, float(_f32(g["epsilon"])))
        upd = torch._foreach_mul(ms, float(alpha))
        torch._foreach_div_(upd, denom)
        torch._foreach_sub_(params, upd)
        self.iterations += 1
        return None


class KerasRMSprop(_KerasOptimizer):
    def __init__(self, params: Iterable[Tensor], lr: float, rho: float, momentum: float, epsilon: float) -> None:
        super().__init__(params, {"lr": lr, "rho": rho, "momentum": momentum, "epsilon": epsilon})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        g = self.param_groups[0]
        params, grads = self._params_and_grads()
        if not params:
            return None
        rho = float(_f32(g["rho"]))
        vs = self._slots(params, "velocity")
        torch._foreach_mul_(vs, rho)
        torch._foreach_addcmul_(vs, grads, grads, value=float(_f32(1 - g["rho"])))
        denom = torch._foreach_add(vs, float(_f32(g["epsilon"])))
        torch._foreach_sqrt_(denom)
        inc = torch._foreach_mul(grads, float(_f32(g["lr"])))
        torch._foreach_div_(inc, denom)
        if g["momentum"] > 0:
            bs = self._slots(params, "momentum")
            torch._foreach_mul_(bs, float(_f32(g["momentum"])))
            torch._foreach_add_(bs, inc)
            torch._foreach_sub_(params, bs)
        else:
            torch._foreach_sub_(params, inc)
        self.iterations += 1
        return None


def make_optimizer(params: list[Tensor], spec: dict, mode: str) -> torch.optim.Optimizer:
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
        return torch.optim.RMSprop(params, lr=lr, alpha=spec["rho"], eps=spec["epsilon"], momentum=spec["momentum"])
    raise ValueError(f"unknown optimizer '{name}'")
