"""How figures read on blocks, edges and the summary line (one place, so they agree)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.spec.layer_types import LayerType

SHORT_NAMES = {
    "kernel_size": "kernel",
    "pool_size": "pool",
    "return_sequences": "seq",
    "output_dim": "dim",
}


def joined(names: Sequence[str], last: str = "and") -> str:
    """'A', 'A and B', 'A, B and C' (``last``: the word before the last name)."""
    names = list(names)
    return " ".join(names) if len(names) < 2 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def shape_text(shape: Sequence[int] | None) -> str:
    return "[" + ", ".join(str(v) for v in shape) + "]" if shape is not None else "?"


def count_text(n: int) -> str:
    """1234 -> '1.2K', 5_300_000 -> '5.3M' (exact figures are in the inspector)."""
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "×".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def key_params_text(lt: LayerType, resolved: dict[str, Any], n_inputs: int = 1) -> str:
    """The block's parameter line: 'filters 8 · kernel 3 · same · relu'."""
    parts = []
    for name in lt.key_params:
        value = resolved.get(name)
        if value is None or (name == "activation" and value == "none" and lt.name != "Activation"):
            continue
        if (
            name == "strides"
            and value == resolved.get("kernel_size", resolved.get("pool_size"))
            and value != 1
        ):
            continue
        if name == "strides" and value == 1:
            continue
        param = lt.param(name)
        if param is not None and param.kind == "choice":
            parts.append(str(value))
        elif isinstance(value, bool):
            if value:
                parts.append(SHORT_NAMES.get(name, name))
        else:
            parts.append(f"{SHORT_NAMES.get(name, name)} {value_text(value)}")
    if lt.max_inputs > 1:
        parts.insert(0, f"{n_inputs} input{'s' * (n_inputs != 1)}")
    return " · ".join(parts) if parts else (lt.doc.rstrip(".") if not lt.params else "")
