"""exports.json, and the cross-framework check of the ONNX files.

Runs in the parent (CLI or app) process: ONNX Runtime is no framework, so running every
runtime's ONNX file here, on one batch, compares their models without ever loading two
frameworks into one process.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.export.common import TOLERANCE, Entry, batches, one_line, run_onnx, write_text
from engine.export.formats import MANIFEST, file_name
from engine.runtimes import DEFAULT_RUNTIMES, runtime

MANIFEST_FORMAT = "twintrain-exports/1"


def cross_check(
    out_dir: Path,
    sample_x: np.ndarray,
    *,
    expect_match: bool = True,
    frameworks: tuple[str, ...] | None = None,
) -> dict[str, Any] | None:
    """Run the ONNX file of each of ``frameworks`` (default: torch.onnx and tensorflow.onnx) in
    ONNX Runtime on the same batch and compare each with the first's (``pairwise``; the largest
    difference is ``max_abs_diff``). Runtimes that write no ONNX are left out.

    None when no file exists. ``expect_match``: the models hold the same weights (matched
    initial weights, untrained), so they must agree to within 1e-4; pass False for models
    trained separately, whose difference is reported but not judged (ok is None)."""
    out_dir = Path(out_dir)
    chosen = DEFAULT_RUNTIMES if frameworks is None else frameworks
    names = [file_name(fw, "onnx") for fw in chosen if "onnx" in runtime(fw).exports]
    present = [n for n in names if (out_dir / n).is_file()]
    if not present:
        return None
    result: dict[str, Any] = {
        "files": names,
        "batch": None,
        "max_abs_diff": None,
        "tolerance": TOLERANCE if expect_match else None,
        "ok": False,
        "reason": None,
        "check": f"onnxruntime output of {' vs '.join(names)} on the same batch",
    }
    if len(names) < 2:
        return None  # one runtime with ONNX: nothing to compare it with
    if len(present) < len(names):
        missing = next(n for n in names if n not in present)
        with_ = present[0] if len(present) == 1 else "the others"
        result["reason"] = f"{missing} was not written; nothing to compare {with_} with"
        if len(present) < 2:
            return result
    pairwise: dict[str, float] = {}
    try:
        x = batches(sample_x)[0]
        a = run_onnx(out_dir / present[0], x).astype(np.float64)
        for name in present[1:]:
            b = run_onnx(out_dir / name, x).astype(np.float64)
            if a.shape != b.shape:
                raise ValueError(f"output shapes differ: {list(a.shape)} vs {list(b.shape)}")
            pairwise[name] = float(np.max(np.abs(a - b))) if a.size else 0.0
    except Exception as exc:
        result["reason"] = one_line(exc)
        return result
    diff = max(pairwise.values())
    result.update(batch=len(x), max_abs_diff=diff)
    if len(names) > 2:
        result["pairwise"] = {"reference": present[0], "max_abs_diff": pairwise}
    if result["reason"]:  # a file is missing: the others' difference is shown, not judged
        return result
    if not expect_match:
        result.update(
            ok=None, reason="each model was trained in its own framework; a difference is expected"
        )
    elif math.isfinite(diff) and diff <= TOLERANCE:
        result["ok"] = True
    else:
        result["reason"] = (
            f"the {'two' if len(names) == 2 else len(names)} frameworks' ONNX outputs differ by "
            f"{diff:.3g} (tolerance {TOLERANCE:g})"
        )
    return result


def write_manifest(
    out_dir: Path,
    entries: list[Entry],
    cross: dict[str, Any] | None,
    *,
    project: str | None = None,
    skipped: dict[str, str] | None = None,
    weights: str | None = None,
    project_path: str | None = None,
) -> Path:
    """Write exports.json atomically: every file with its size and checks, the cross-check, and
    the frameworks deliberately not exported ({framework: why}; they do not make it fail). An
    entry with ``supported: False`` is a format its runtime cannot write; it does not fail it.
    ``weights``: the folder of trained weights the models were built from (absolute), or None
    for the matched initial weights, and ``project_path`` the project file's (data files are
    relative to it); engine.deploy rebuilds its baseline from both."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": MANIFEST_FORMAT,
        "project": project,
        "ok": all(e.get("ok") or e.get("supported") is False for e in entries)
        and (cross is None or cross.get("ok") is not False),
        "files": [_plain(e) for e in entries],
        "cross_check": _plain(cross),
        "skipped": dict(skipped or {}),
        "weights": weights,
        "project_path": project_path,
    }
    path = out_dir / MANIFEST
    write_text(
        path, json.dumps(doc, indent=2, allow_nan=False) + "\n"
    )  # atomic: engine.spec.project.write_atomic
    return path


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None, paths to strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
