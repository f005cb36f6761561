"""Auto-arrange: blocks top to bottom in rows by depth from the input, rows centred."""

from __future__ import annotations

from engine.spec.project import INPUT_ID, Layer

BLOCK_W = 230.0  # the canvas draws blocks this wide; positions are their top-left corners
ROW_PITCH = 150.0
COL_PITCH = BLOCK_W + 40.0


def depths(layers: list[Layer]) -> dict[str, int]:
    """Longest path from the input for each block; unconnected blocks sit in the first row."""
    from gui.analysis import order_layers

    memo: dict[str, int] = {}
    for layer in order_layers(layers):  # inputs first, so one pass suffices (no recursion)
        memo[layer.id] = 1 + max((memo[r] for r in layer.inputs or [] if r in memo), default=0)
    return memo


def arrange(input_id: str, layers: list[Layer]) -> dict[str, tuple[float, float]]:
    """Positions for the Input block and every layer."""
    rows: dict[int, list[str]] = {0: [input_id]}
    for lid, d in depths(layers).items():
        rows.setdefault(d, []).append(lid)
    by_id = {layer.id: layer for layer in layers}
    xs: dict[str, float] = {}
    out: dict[str, tuple[float, float]] = {}
    for d in sorted(rows):
        row = rows[d]
        index = {lid: i for i, lid in enumerate(row)}

        def centre_of_inputs(lid: str, index=index) -> tuple[float, int]:
            refs = [xs[r] for r in (by_id[lid].inputs if lid in by_id else []) or [] if r in xs]
            return (sum(refs) / len(refs) if refs else 0.0, index[lid])

        row.sort(key=centre_of_inputs)
        for i, lid in enumerate(row):
            x = (i - (len(row) - 1) / 2) * COL_PITCH
            xs[lid] = x
            out[lid] = (x - BLOCK_W / 2, d * ROW_PITCH)
    out.setdefault(INPUT_ID, (-BLOCK_W / 2, 0.0))
    return out
