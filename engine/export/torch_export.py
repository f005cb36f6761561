"""PyTorch exports, run inside the PyTorch worker: safetensors, .pt2, TorchScript, ONNX.

Every file is loaded back (safe loaders only) or run in ONNX Runtime and compared with the
model's own output on the sample batch and on a smaller batch (so a batch axis frozen to the
sample's size is caught). The exports use an inference-mode copy of the model on the CPU, so
the worker's model (maybe on a GPU, maybe mid-training) is left as it was.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from engine.export.common import (
    Entry,
    attempt,
    batches,
    compare,
    entry,
    match_umask,
    one_line,
    onnx_opset,
    remove,
    run_onnx,
)
from engine.export.formats import backend_column, file_name, formats_for

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.backends.plan import Plan

FRAMEWORK = "torch"
LEGACY_OPSET = 17


def export_torch(
    backend: Backend, formats: Iterable[str], out_dir: Path, sample_x: np.ndarray
) -> list[Entry]:
    """Write the chosen PyTorch formats of ``backend.model`` into ``out_dir``; one entry each.

    ``backend`` is a built engine.backends.torch_backend.TorchBackend; ``formats`` are names
    from engine.export.formats (others' formats and 'all' are fine: this writes its own).
    Never raises: a format that fails is an entry with ok False and the reason."""
    column = backend_column(backend, FRAMEWORK)
    try:
        chosen = formats_for(FRAMEWORK, formats)
    except Exception as exc:
        return [entry("all", column, None, Path(out_dir), ok=False, reason=one_line(exc))]
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        model = _inference_copy(backend.model)
        xs = batches(sample_x)
        refs = [_run(model, x) for x in xs]
    except Exception as exc:
        reason = f"model could not be prepared for export: {one_line(exc)}"
        return [
            entry(f, column, file_name(column, f), out_dir, ok=False, reason=reason) for f in chosen
        ]
    writers = {"safetensors": _safetensors, "pt2": _pt2, "torchscript": _torchscript, "onnx": _onnx}
    with _known_noise_hidden():
        return [
            attempt(
                f,
                column,
                file_name(column, f),
                out_dir,
                functools.partial(writers[f], model, xs, refs, backend.plan),
            )
            for f in chosen
        ]


@contextlib.contextmanager
def _known_noise_hidden() -> Iterator[None]:
    """Hide log lines that say nothing about the user's model: the ONNX exporter lists the
    torchvision ops it skips, torch.export notes that nn.LSTM/GRU re-assign their flat weights."""
    log = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"The tensor attributes .*_flat_weights")
            yield
    finally:
        log.setLevel(level)


def _inference_copy(model: nn.Module) -> nn.Module:
    if model is None:
        raise RuntimeError("the backend has no model (build() was not called)")
    return copy.deepcopy(model).to("cpu").eval()


def _run(module: Any, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).detach().cpu().numpy()


def _batches_text(xs: list[np.ndarray]) -> str:
    return " and ".join(str(len(x)) for x in xs)


def _batch_dim() -> Any:
    return ({0: torch.export.Dim("batch", min=1, max=1 << 20)},)


def _safetensors(
    model: nn.Module, xs: list[np.ndarray], refs: list[np.ndarray], plan: Plan, path: Path
) -> tuple[float, str, dict[str, Any]]:
    from safetensors.torch import load_file, save_file

    # safetensors refuses tensors that share storage or are views: store contiguous copies.
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(
        state,
        str(path),
        metadata={
            "format": "pt",
            "producer": "TwinTrain",
            "layout": "PyTorch parameter layout (channels-first kernels)",
        },
    )
    match_umask(path)  # safetensors writes owner-only
    loaded = load_file(str(path), device="cpu")
    fresh = type(model)(plan)
    fresh.load_state_dict(loaded, strict=True)
    fresh.eval()
    check = (
        f"load_file into a fresh model (load_state_dict strict), output vs the model's "
        f"at batch {_batches_text(xs)}"
    )
    return (
        compare([(r, _run(fresh, x)) for r, x in zip(refs, xs)], check),
        check,
        {"tensors": len(state)},
    )


def _pt2(
    model: nn.Module, xs: list[np.ndarray], refs: list[np.ndarray], plan: Plan, path: Path
) -> tuple[float, str, dict[str, Any]]:
    with torch.no_grad():
        program = torch.export.export(
            model, (torch.from_numpy(xs[0]),), dynamic_shapes=_batch_dim()
        )
    torch.export.save(program, str(path))
    loaded = torch.export.load(str(path)).module()
    check = f"torch.export.load, output vs the model's at batch {_batches_text(xs)}"
    return compare([(r, _run(loaded, x)) for r, x in zip(refs, xs)], check), check, {}


def _torchscript(
    model: nn.Module, xs: list[np.ndarray], refs: list[np.ndarray], plan: Plan, path: Path
) -> tuple[float, str, dict[str, Any]]:
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.from_numpy(xs[0]), check_trace=False)
    torch.jit.save(traced, str(path))
    loaded = torch.jit.load(str(path), map_location="cpu")
    loaded.eval()
    check = (
        f"torch.jit.trace, then torch.jit.load; output vs the model's at batch {_batches_text(xs)}"
    )
    return compare([(r, _run(loaded, x)) for r, x in zip(refs, xs)], check), check, {}


def _onnx(
    model: nn.Module, xs: list[np.ndarray], refs: list[np.ndarray], plan: Plan, path: Path
) -> tuple[float, str, dict[str, Any]]:
    """The dynamo (torch.export-based) exporter; the legacy TorchScript one if that fails."""
    try:
        torch.onnx.export(
            model,
            (torch.from_numpy(xs[0]),),
            str(path),
            dynamo=True,
            dynamic_shapes=_batch_dim(),
            external_data=False,
            verbose=False,
            input_names=["input"],
            output_names=["output"],
        )
        return _check_onnx(path, xs, refs, "dynamo exporter")
    except Exception as exc:
        first = one_line(exc)
        remove(path)
        remove(path.with_name(path.name + ".data"))
    torch.onnx.export(
        model,
        (torch.from_numpy(xs[0]),),
        str(path),
        dynamo=False,
        opset_version=LEGACY_OPSET,
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        input_names=["input"],
        output_names=["output"],
    )
    diff, check, extra = _check_onnx(path, xs, refs, "legacy TorchScript exporter")
    return (
        diff,
        check,
        {**extra, "note": f"dynamo exporter failed ({first}); used the legacy exporter"},
    )


def _check_onnx(
    path: Path, xs: list[np.ndarray], refs: list[np.ndarray], exporter: str
) -> tuple[float, str, dict[str, Any]]:
    opset = onnx_opset(path)
    check = (
        f"onnxruntime vs torch at batch {_batches_text(xs)} "
        f"({exporter}, opset {opset}, dynamic batch)"
    )
    if opset is None or opset < LEGACY_OPSET:
        raise RuntimeError(f"{exporter} wrote opset {opset}; at least {LEGACY_OPSET} is required")
    return (
        compare([(r, run_onnx(path, x)) for r, x in zip(refs, xs)], check),
        check,
        {"exporter": exporter.split()[0], "opset": opset},
    )
