"""Each file's outputs against its framework's eager baseline, and the status that follows.

A float file matches when its largest absolute difference from the baseline on the validation
inputs is within ``engine.export.common.tolerance_for`` (1e-4 x max(1, the baseline's largest
absolute output), the exports' own check). A quantized file is not expected to be within that:
it is ``ok`` when its accuracy is at most ``QUANTIZED_ACCURACY_DROP`` below the float file's it
was made from (classification) or, for other tasks, when its difference is within
``QUANTIZED_TOLERANCE`` x max(1, the baseline's largest absolute output).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.export.common import tolerance_for

QUANTIZED_ACCURACY_DROP = 0.02
QUANTIZED_TOLERANCE = 0.05


def accuracy(outputs: np.ndarray, labels: np.ndarray | None, loss: str) -> float | None:
    """Validation accuracy of a classifier's outputs (logits, as the backends' evaluate reads
    them); None for other tasks."""
    if labels is None or loss not in ("cross_entropy", "binary_cross_entropy") or not len(labels):
        return None
    if outputs.shape[0] != labels.shape[0]:
        return None
    if loss == "binary_cross_entropy":
        predicted = (outputs > 0).astype(labels.dtype).reshape(labels.shape)
    else:
        predicted = outputs.argmax(axis=-1).reshape(labels.shape)
    return float(np.mean(predicted == labels))


def difference(reference: np.ndarray, outputs: np.ndarray) -> tuple[float | None, str | None]:
    """(largest absolute difference, why it cannot be computed)."""
    if reference.shape != outputs.shape:
        got, want = list(outputs.shape), list(reference.shape)
        return None, f"output shape {got} differs from the baseline's {want}"
    if not np.all(np.isfinite(outputs)):
        return None, "output holds NaN or infinite values"
    a, b = reference.astype(np.float64), outputs.astype(np.float64)
    return (float(np.max(np.abs(a - b))) if a.size else 0.0), None


def judge(
    row: dict[str, Any],
    reference: np.ndarray | None,
    outputs: np.ndarray,
    *,
    quantized: bool,
    source_accuracy: float | None,
) -> None:
    """Set ``max_abs_diff``, ``tolerance`` and the status (``ok`` or ``mismatch`` with the
    reason) of a row that ran."""
    if reference is None:
        row["reason"] = "not compared: its framework's eager baseline did not run"
        return
    diff, why = difference(reference, outputs)
    row["max_abs_diff"] = diff
    scale = QUANTIZED_TOLERANCE / 1e-4 if quantized else 1.0
    row["tolerance"] = tolerance_for(reference) * scale
    if why is not None:
        row["status"], row["reason"] = "mismatch", why
        return
    assert diff is not None
    if quantized and source_accuracy is not None and row.get("accuracy") is not None:
        drop = source_accuracy - row["accuracy"]
        row["tolerance"] = None
        row["accuracy_drop"] = drop
        if drop > QUANTIZED_ACCURACY_DROP:
            row["status"] = "mismatch"
            row["reason"] = (
                f"accuracy {row['accuracy']:.4f} is {drop:.4f} below the float model's "
                f"{source_accuracy:.4f} (allowed: {QUANTIZED_ACCURACY_DROP})"
            )
        return
    if diff > row["tolerance"]:
        row["status"] = "mismatch"
        row["reason"] = (
            f"outputs differ from the eager baseline's by {diff:.3g} "
            f"(tolerance {row['tolerance']:.2g})"
        )
