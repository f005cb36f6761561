"""PyTorch's files: safetensors into the eager model, a ``torch.export`` program, TorchScript.
Every inference runs under ``torch.inference_mode()`` with ``torch.set_num_threads``."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.deploy.runners.base import RunnerBase, torch_threads


class TorchRunner(RunnerBase):
    """What the PyTorch runners share: the import, the input as a tensor, the call."""

    module: Any

    def imports(self) -> dict[str, str]:
        import torch

        torch_threads(self.threads)
        return {"torch": str(torch.__version__)}

    def prepare(self, x: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def infer(self, prepared: Any) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.module(prepared).numpy()


class SafetensorsRunner(TorchRunner):
    """The state dict loaded (strict) into the eager model built from the project's plan."""

    def imports(self) -> dict[str, str]:
        versions = super().imports()
        import safetensors

        versions["safetensors"] = str(getattr(safetensors, "__version__", "unknown"))
        return versions

    def load(self) -> None:
        from safetensors.torch import load_file

        from engine.deploy.runners.eager import torch_model

        model = torch_model(self.job)
        model.load_state_dict(load_file(str(self.file()), device="cpu"), strict=True)
        self.module = model.eval()


class Pt2Runner(TorchRunner):
    def load(self) -> None:
        import torch

        self.module = torch.export.load(str(self.file())).module()


class TorchScriptRunner(TorchRunner):
    def load(self) -> None:
        import torch

        self.module = torch.jit.load(str(self.file()), map_location="cpu").eval()
