"""The compiled modes of the PyTorch runtimes (torch and keras-torch): ``torch.compile`` of the
forward pass and loss, and a count of the graphs it compiled.

What is compiled is the function from a batch to its loss; the backward pass runs through the
graphs AOTAutograd compiled with it, and the optimizer's update stays eager (TwinTrain's matched
optimizer is a plain Python loop that Dynamo would split into many graphs). Evaluation and
exports use the uncompiled module, so the exported model is the same whatever mode trained it.

torch itself is imported where it is used, so the mode table can be read (the code export's
tests compare the scripts' table with it) without importing torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Mode id -> torch.compile's mode argument for (cpu, cuda); None: the default mode.
TORCH_MODES: dict[str, tuple[str | None, str | None]] = {
    "compile": (None, None),
    "compile-max": ("max-autotune-no-cudagraphs", "max-autotune"),
    "reduce-overhead": (None, "reduce-overhead"),
}


def compiled(fn: Callable[..., Any], mode: str, device: str) -> Callable[..., Any]:
    """``fn`` under torch.compile for a TwinTrain mode; an eager mode returns ``fn`` itself."""
    if mode not in TORCH_MODES:
        return fn
    if mode == "reduce-overhead" and device != "cuda":
        raise RuntimeError("mode reduce-overhead replays CUDA graphs: it needs --device cuda")
    import torch

    cpu_mode, cuda_mode = TORCH_MODES[mode]
    return torch.compile(fn, mode=cuda_mode if device == "cuda" else cpu_mode)


def graphs_compiled() -> int:
    """Graphs Dynamo has compiled in this process so far (its first compile and every recompile,
    a graph break's pieces each count)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])
