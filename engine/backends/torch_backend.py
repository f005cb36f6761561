"""The PyTorch backend: builds the spec network, trains it (eager or compiled), converts weights.

Imported only in the PyTorch worker process (it imports torch). The network keeps conv stacks
channels-first and converts a tensor's layout only where a layer needs the other one (see
torch_layers); its input and output are channels-last like the spec.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.backends import torch_layers as L
from engine.backends.base import Weights
from engine.backends.plan import Plan, make_plan
from engine.backends.torch_adapters import TORCH, out_layout, run_layout
from engine.backends.torch_compile import compiled, graphs_compiled
from engine.backends.torch_optim import make_optimizer
from engine.spec.project import INPUT_ID, Project


class Net(nn.Module):
    """The spec graph as one module; ``layers`` holds one module per spec layer, by id."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.layers = nn.ModuleDict()
        # Spec ids may clash with ModuleDict attributes ('forward', 'keys', 'to'...): such ids get
        # a suffix as module names; ``key`` maps a spec id to its module name.
        taken = {node.id for node in plan.nodes}
        self.key: dict[str, str] = {}
        self.ran: dict[str, str] = {}  # spec id -> the layout it runs in (the code export's too)
        for node in plan.nodes:
            name = node.id
            while hasattr(self.layers, name) or (name != node.id and name in taken):
                name += "_"
            self.key[node.id] = name
        steps: list[tuple[nn.Module, tuple[int, ...]]] = []
        slot = {INPUT_ID: 0}
        layout: dict[str, str] = {INPUT_ID: "cl"}
        rank = {INPUT_ID: len(plan.input_shape) + 1}
        converted: dict[tuple[str, str], int] = {}

        def fetch(ref: str, want: str | None) -> int:
            have = layout[ref]
            if want is None or want == have or rank[ref] <= 2:
                return slot[ref]
            key = (ref, want)
            if key not in converted:
                steps.append((L.Permute(rank[ref], want == "cf"), (slot[ref],)))
                converted[key] = len(steps)
            return converted[key]

        for node in plan.nodes:
            # A layout-following type takes its first input's; the others are converted to match.
            first = node.inputs[0]
            want = run_layout(node.type, layout[first], rank[first])
            self.ran[node.id] = want
            ins = tuple(fetch(ref, want) for ref in node.inputs)
            module = L.make_module(node, want == "cf")
            self.layers[self.key[node.id]] = module
            steps.append((module, ins))
            slot[node.id] = len(steps)
            rank[node.id] = len(node.output_shape) + 1
            layout[node.id] = out_layout(want, rank[node.id])
        last = plan.output_id
        if layout[last] == "cf" and rank[last] > 2:
            steps.append((L.Permute(rank[last], False), (slot[last],)))
        self._chain = all(ins == (i,) for i, (_, ins) in enumerate(steps))
        self._modules_in_order = [
            m for m, _ in steps
        ]  # plain list: modules are owned by self.layers
        self._steps = steps

    def forward(self, x: Tensor) -> Tensor:
        if self._chain:
            for m in self._modules_in_order:
                x = m(x)
            return x
        values = [x]
        for m, ins in self._steps:
            values.append(m(*[values[i] for i in ins]))
        return values[-1]


# BatchNorm's running statistics: buffers with no gradient, left out of a probe's weight gradients
_STATISTICS = ("moving_mean", "moving_variance")


def full_float32_on_gpu() -> None:
    """Float32 matrix products and convolutions in full float32 on a GPU, not TF32 (cuDNN's
    default in PyTorch): every column computes in the same precision (TensorFlow's and JAX's TF32
    are switched off too), so a difference between columns is not a precision setting's."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def _spec_grads(layer_type: str, module: nn.Module) -> dict[str, np.ndarray]:
    """A module's weight gradients in the spec layout (its weights' converter applied to them;
    zeros for a tensor without a gradient, BatchNorm's statistics left out)."""
    from_torch = TORCH[layer_type].from_torch
    params = dict(module.named_parameters())
    if from_torch is None or not params:
        return {}
    arrays = {k: torch.zeros_like(b).cpu().numpy() for k, b in module.named_buffers()}
    arrays |= {
        k: (p.grad if p.grad is not None else torch.zeros_like(p)).cpu().numpy()
        for k, p in params.items()
    }
    return {
        k: np.asarray(v, dtype=np.float32)
        for k, v in from_torch(arrays).items()
        if k not in _STATISTICS
    }


def _loss_fn(loss: str) -> Callable[..., Tensor]:
    losses: dict[str, Callable[..., Tensor]] = {
        "cross_entropy": F.cross_entropy,
        "binary_cross_entropy": F.binary_cross_entropy_with_logits,
        "mse": F.mse_loss,
        "mae": F.l1_loss,
    }
    return losses[loss]


class TorchBackend:
    """engine.backends.base.Backend for PyTorch; ``mode``: eager or one of torch.compile's
    (engine.backends.torch_compile)."""

    name = "torch"

    def __init__(
        self, project: Project, *, device: str = "cpu", threads: int = 1, mode: str = "eager"
    ) -> None:
        torch.set_num_threads(threads)
        if device == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError("device 'cuda' was asked for but PyTorch sees no CUDA device")
            full_float32_on_gpu()
        self.project = project
        self.plan = make_plan(project)
        self.device = torch.device(device)
        self.threads = threads
        self.mode = mode
        self.model: Net | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self._loss = _loss_fn(self.plan.loss)
        self._kinds = {n.id: n.type for n in self.plan.nodes}
        self._graphs_before = graphs_compiled()

    @staticmethod
    def resolve_device(requested: str) -> tuple[str, str | None]:
        """('cpu' or 'cuda', a note when 'auto' fell back) for a --device value."""
        available = torch.cuda.is_available()
        if requested == "cuda" and not available:
            raise RuntimeError("device 'cuda' was asked for but PyTorch sees no CUDA device")
        if requested == "auto":
            return (
                ("cuda", None)
                if available
                else ("cpu", "device auto: PyTorch sees no CUDA device; using the CPU")
            )
        return requested, None

    # ---- set-up --------------------------------------------------------------------------------

    def build(self, weights: Weights | None, *, optimizer_mode: str = "matched") -> None:
        torch.manual_seed(int(self.project.training.get("seed", 0)))
        model = Net(self.plan)
        if weights is not None:
            self._load(model, weights)
        self.model = model.to(self.device).train()
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        # A network without trainable weights (pooling only) still runs its forward and loss.
        self.optimizer = (
            make_optimizer(trainable, self.plan.optimizer, optimizer_mode) if trainable else None
        )
        net, loss = self.model, self._loss
        self._forward_loss = compiled(lambda x, y: loss(net(x), y), self.mode, self.device.type)

    def compiles(self) -> int:
        """Graphs compiled for this backend's step so far (0 in eager mode)."""
        return graphs_compiled() - self._graphs_before if self.mode != "eager" else 0

    def _load(self, model: Net, weights: Weights) -> None:
        with torch.no_grad():
            for lid, arrays in weights.items():
                module = model.layers[model.key[lid]]
                named = dict(module.named_parameters()) | dict(module.named_buffers())
                to_torch = TORCH[self._kinds[lid]].to_torch
                if to_torch is None:
                    raise ValueError(f"layer '{lid}': {self._kinds[lid]} has no weights")
                for name, value in to_torch(arrays).items():
                    target = named[name]
                    src = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
                    if tuple(src.shape) != tuple(target.shape):
                        raise ValueError(
                            f"layer '{lid}': {name} has shape {list(src.shape)}, "
                            f"expected {list(target.shape)}"
                        )
                    target.copy_(src)

    def info(self) -> dict[str, Any]:
        params = None if self.model is None else sum(p.numel() for p in self.model.parameters())
        return {
            "version": torch.__version__,
            "device": self.device.type,
            "threads": self.threads,
            "mode": self.mode,
            "params": params,
        }

    # ---- steps ---------------------------------------------------------------------------------

    def _tensor(self, a: np.ndarray) -> Tensor:
        t = torch.from_numpy(a)
        return t if self.device.type == "cpu" else t.to(self.device, non_blocking=True)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        model, opt = self.model, self.optimizer
        assert model is not None, "build() first"
        xt, yt = self._tensor(x), self._tensor(self.plan.target(y))
        if opt is None:
            with torch.no_grad():
                return self._loss(model(xt), yt).item()
        opt.zero_grad(set_to_none=True)
        loss = self._forward_loss(xt, yt)
        loss.backward()
        opt.step()
        return loss.item()

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The model output in training or inference mode (training mode updates BatchNorm)."""
        assert self.model is not None, "build() first"
        self.model.train(training)
        try:
            with torch.no_grad():
                return self.model(self._tensor(np.ascontiguousarray(x))).cpu().numpy()
        finally:
            self.model.train(True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, training=False)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float | None]:
        model = self.model
        assert model is not None, "build() first"
        total, correct = 0.0, 0
        model.eval()
        try:
            with torch.inference_mode():
                for i in range(0, len(x), batch_size):
                    xb = self._tensor(np.ascontiguousarray(x[i : i + batch_size]))
                    yb = self._tensor(self.plan.target(y[i : i + batch_size]))
                    out = model(xb)
                    total += self._loss(out, yb).item() * len(xb)
                    if self.plan.loss == "cross_entropy":
                        correct += int((out.argmax(dim=-1) == yb).sum().item())
                    elif self.plan.loss == "binary_cross_entropy":
                        correct += int(((out > 0).to(yb.dtype) == yb).sum().item())
        finally:
            model.train()
        n = max(len(x), 1)
        return total / n, (correct / n if self.plan.classification else None)

    def probe(self, x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
        """Per layer: output, its gradient, the weight gradients in the spec layout
        (engine.divergence): forward hooks on a copy of the model, so probing never touches the
        trained one (BatchNorm's running statistics, the gradients) nor its compiled wrapper."""
        assert self.model is not None, "build() first"
        net = copy.deepcopy(self.model).train()
        caught: dict[str, Tensor] = {}

        def keep(lid: str) -> Callable[..., None]:
            def hook(_module: nn.Module, _ins: Any, out: Tensor) -> None:
                out.retain_grad()
                caught[lid] = out

            return hook

        handles = [net.layers[key].register_forward_hook(keep(lid)) for lid, key in net.key.items()]
        try:
            xt, yt = self._tensor(x), self._tensor(self.plan.target(y))
            xt = xt.clone().requires_grad_(True)  # a first layer without weights has a gradient
            self._loss(net(xt), yt).backward()
        finally:
            for handle in handles:
                handle.remove()
        out: dict[str, dict[str, Any]] = {}
        for node in self.plan.nodes:
            t = caught[node.id]
            spec = {"output": t.detach(), "output_grad": t.grad}
            if out_layout(net.ran[node.id], t.dim()) == "cf":  # back to channels-last
                spec = {k: L.Permute(t.dim(), False)(v) for k, v in spec.items()}
            grads = _spec_grads(node.type, net.layers[net.key[node.id]])
            output, grad = spec["output"], spec["output_grad"]
            assert output is not None
            out[node.id] = {
                "output": output.cpu().numpy().astype(np.float32),
                "output_grad": None if grad is None else grad.cpu().numpy(),
                "weight_grads": grads,
            }
        return out

    def isolate(
        self, inputs: dict[str, list[np.ndarray]], grads: dict[str, np.ndarray]
    ) -> dict[str, dict[str, Any]]:
        """Each layer alone, fed another column's inputs and output gradient (channels-last,
        converted to the layout the layer runs in, as the Net converts them): its output and
        weight gradients in the spec layout, on a copy of the model (engine.divergence)."""
        assert self.model is not None, "build() first"
        net = copy.deepcopy(self.model).train()
        out: dict[str, dict[str, Any]] = {}
        for node in self.plan.nodes:
            module = net.layers[net.key[node.id]]
            cf = net.ran[node.id] == "cf"
            ins = []
            for a in inputs[node.id]:
                t = self._tensor(np.ascontiguousarray(a, dtype=np.float32))
                ins.append(L.Permute(t.dim(), True)(t) if cf and t.dim() > 2 else t)
            y = module(*ins)
            g = self._tensor(np.ascontiguousarray(grads[node.id], dtype=np.float32))
            back = out_layout(net.ran[node.id], y.dim()) == "cf"
            if back:
                g = L.Permute(g.dim(), True)(g)
            if any(p.requires_grad for p in module.parameters()):
                y.backward(g)
            if back:
                y = L.Permute(y.dim(), False)(y)
            out[node.id] = {
                "output": y.detach().cpu().numpy(),
                "weight_grads": _spec_grads(node.type, module),
            }
        return out

    # ---- state ---------------------------------------------------------------------------------

    def get_weights(self) -> Weights:
        assert self.model is not None, "build() first"
        out: Weights = {}
        for lid, key in self.model.key.items():
            from_torch = TORCH[self._kinds[lid]].from_torch
            if from_torch is None:  # no weights (a padded average pool's buffer is not one)
                continue
            module = self.model.layers[key]
            named = dict(module.named_parameters()) | dict(module.named_buffers())
            arrays = {k: v.detach().cpu().numpy().copy() for k, v in named.items() if v is not None}
            converted = from_torch(arrays)
            if converted:
                out[lid] = {
                    k: np.ascontiguousarray(v, dtype=np.float32) for k, v in converted.items()
                }
        return out

    def peak_device_bytes(self) -> int | None:
        if self.device.type != "cuda":
            return None
        return int(torch.cuda.max_memory_allocated(self.device))
