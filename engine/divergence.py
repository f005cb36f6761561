"""Where do two columns part? A layer-by-layer comparison of one batch (``twintrain diff``).

Each column's worker replays the run's first N batches, then probes batch N+1
(engine.layer_probe): every layer's output, the loss's gradient with respect to it, its weight
gradients and the change one optimizer step makes to its weights. Here the two columns are
compared layer by layer, *in place*: what flows through each whole model, so a difference born in
one layer shows downstream in the forward pass and upstream in the backward pass. The layer a
difference starts at is therefore the first in topological order whose output differs, or,
when every output agrees, the last whose output gradient differs (the backward pass runs the
other way); then the first whose weight gradient or update differs. Known causes are named on
the layer (``CAUSES``); a layer past tolerance with no known cause is flagged as unexplained.

Tolerance: float32 arithmetic done in another order (another framework's kernels) differs by a
few units in the last place, growing with the values' size, so each tensor gets
``RTOL * max|reference| + ATOL``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from engine.layer_probe import Probe, load_probe, probe_file
from engine.runtimes import label_of, mode_of
from engine.spec.project import Project

RTOL = 1e-4
ATOL = 1e-6


def tolerance(reference: np.ndarray) -> float:
    return RTOL * float(np.max(np.abs(reference), initial=0.0)) + ATOL


def _diff(a: np.ndarray | None, b: np.ndarray | None) -> dict[str, float] | None:
    """max/mean |a - b| and the max relative to max|a|, with a's tolerance; None if absent."""
    if a is None or b is None:
        return None
    if a.shape != b.shape:
        return {"max": float("inf"), "mean": float("inf"), "rel": float("inf"), "tol": 0.0}
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    scale = float(np.max(np.abs(a), initial=0.0))
    return {
        "max": float(d.max(initial=0.0)),
        "mean": float(d.mean()) if d.size else 0.0,
        "rel": float(d.max(initial=0.0)) / scale if scale > 0 else 0.0,
        "tol": tolerance(a),
    }


def _worst(diffs: list[dict[str, float] | None]) -> dict[str, float] | None:
    present = [d for d in diffs if d is not None]
    if not present:
        return None
    return max(present, key=lambda d: d["max"] / max(d["tol"], 1e-30))


def _over(d: dict[str, float] | None) -> bool:
    return d is not None and not d["max"] <= d["tol"]


# Known causes: (layer types it applies to or None for every layer, the condition on the
# comparison's context, the words). Checked in order; the first that holds is the cause.
def _dropout(ctx: dict[str, Any], layer: dict[str, Any]) -> bool:
    return layer["type"] == "Dropout" and float(layer["params"].get("rate", 0)) > 0


def _native_init(ctx: dict[str, Any], layer: dict[str, Any]) -> bool:
    return ctx["init"] != "matched"


def _native_optimizer(ctx: dict[str, Any], layer: dict[str, Any]) -> bool:
    return ctx["optimizer"] != "matched" and layer["only_update"]


def _compiled(ctx: dict[str, Any], layer: dict[str, Any]) -> bool:
    return ctx["compiled"] and layer["worst_rel"] < 1e-3


CAUSES = (
    (_dropout, "Dropout draws its own random mask in each framework: expected to differ"),
    (_native_init, "native init: each framework drew its own initial weights"),
    (
        _native_optimizer,
        "native optimizers: the stock update formulas differ ({optimizer_note})",
    ),
    (
        _compiled,
        "a compiler (XLA, Inductor) may sum float32 values in another order: a small difference",
    ),
)


def compare(
    a: Probe, b: Probe, nodes: list[dict[str, Any]], context: dict[str, Any]
) -> list[dict[str, Any]]:
    """Per layer, in topological order, the figures of b against a (the reference): in place,
    and, where b's probe ran each layer alone on a's inputs (``iso_*``), isolated."""
    rows = []
    for node in nodes:
        pa, pb = a.get(node["id"], {}), b.get(node["id"], {})
        names = sorted(pa.get("weight_grads") or {})

        def worst(field: str, pa: Probe = pa, pb: Probe = pb, names: list = names) -> Any:
            theirs = pb.get(field) or {}
            return _worst([_diff(pa["weight_grads"][n], theirs.get(n)) for n in names])

        row: dict[str, Any] = {
            "id": node["id"],
            "type": node["type"],
            "params": node["params"],
            "forward": _diff(pa.get("output"), pb.get("output")),
            "output_grad": _diff(pa.get("output_grad"), pb.get("output_grad")),
            "weight_grad": worst("weight_grads"),
            "update": _worst(
                [_diff(pa["updates"][n], (pb.get("updates") or {}).get(n)) for n in names]
            ),
            "iso_forward": _diff(pa.get("output"), pb.get("iso_output")),
            "iso_weight_grad": worst("iso_grads") if pb.get("iso_grads") is not None else None,
        }
        row["isolated"] = row["iso_forward"] is not None
        # the update differs although the gradients agree: the optimizer's own difference
        row["only_update"] = _over(row["update"]) and not _over(row["weight_grad"])
        # at the output, the gradient comes from the loss: a difference there is the loss's
        row["loss_grad"] = (
            node.get("is_output", False) and _over(row["output_grad"]) and not _over(row["forward"])
        )
        row["in_place_within_tolerance"] = not any(
            map(_over, (row["forward"], row["output_grad"], row["weight_grad"], row["update"]))
        )
        if row["isolated"]:
            row["within_tolerance"] = not (
                _over(row["iso_forward"])
                or _over(row["iso_weight_grad"])
                or row["only_update"]
                or row["loss_grad"]
            )
        else:
            row["within_tolerance"] = row["in_place_within_tolerance"]
        figures = [
            f
            for k in ("forward", "output_grad", "weight_grad", "update", "iso_forward")
            if (f := row[k])
        ]
        row["worst_rel"] = max((f["rel"] for f in figures), default=0.0)
        rows.append(row)
    return rows


def first_divergent(rows: list[dict[str, Any]]) -> str | None:
    """Where a difference starts. Isolated: the first layer, in topological order, that differs
    when run alone. In place only (module docstring): forward, else backward, else weights."""
    if rows and all(r["isolated"] for r in rows):
        return next((r["id"] for r in rows if not r["within_tolerance"]), None)
    for row in rows:
        if _over(row["forward"]):
            return row["id"]
    for row in reversed(rows):
        if _over(row["output_grad"]):
            return row["id"]
    for key in ("weight_grad", "update"):
        for row in rows:
            if _over(row[key]):
                return row["id"]
    return None


def _follows(rows: list[dict[str, Any]], i: int, first: int) -> bool:
    """Whether row i's difference can flow from the first divergent layer's, in place: it comes
    after it in the forward pass, or before it with its own output agreeing (the backward pass
    carries the difference upstream into gradients and updates)."""
    if i > first:
        return True
    return i < first and not _over(rows[i]["forward"])


def explain(rows: list[dict[str, Any]], context: dict[str, Any]) -> None:
    """Set each row's ``cause``: a known cause in words where one holds and the layer is past
    tolerance; for a layer that agrees alone but differs in place, that it follows from the
    first divergent layer; else None. ``unexplained``: past tolerance with no known cause (a bug
    to report, or a genuine framework difference)."""
    first_id = first_divergent(rows)
    first = next((i for i, r in enumerate(rows) if r["id"] == first_id), None)
    for i, row in enumerate(rows):
        row["cause"] = None
        if not row["within_tolerance"]:
            for test, words in CAUSES:
                if test(context, row):
                    row["cause"] = words.format(**context)
                    break
            if (
                row["cause"] is None
                and not row["isolated"]
                and first is not None
                and _follows(rows, i, first)
            ):
                row["cause"] = f"follows from {first_id} (compared in place)"
        elif not row["in_place_within_tolerance"] and first_id is not None:
            row["cause"] = f"follows from {first_id}: alone, this layer agrees"
        row["unexplained"] = not row["within_tolerance"] and row["cause"] is None


def result(
    a: Probe, b: Probe, project: Project, columns: tuple[str, str], context: dict[str, Any]
) -> dict[str, Any]:
    """The comparison as ``twintrain diff --json`` prints it."""
    from engine.backends.plan import make_plan

    plan = make_plan(project)
    nodes = [
        {"id": n.id, "type": n.type, "params": dict(n.params), "is_output": n.id == plan.output_id}
        for n in plan.nodes
    ]
    ctx = {
        **context,
        "compiled": any(mode_of(c).compiles and mode_of(c).id not in ("graph",) for c in columns),
    }
    rows = compare(a, b, nodes, ctx)
    explain(rows, ctx)
    first = first_divergent(rows)
    isolated = bool(rows) and all(r["isolated"] for r in rows)

    def m(d: dict[str, float] | None, key: str = "max") -> float | None:
        return None if d is None else d[key]

    def layer(row: dict[str, Any]) -> dict[str, Any]:
        fwd = row["iso_forward"] if row["isolated"] else row["forward"]
        wgrad = row["iso_weight_grad"] if row["isolated"] else row["weight_grad"]
        return {
            "id": row["id"],
            "type": row["type"],
            "forward_max_abs_diff": m(fwd),
            "forward_mean_abs_diff": m(fwd, "mean"),
            "forward_rel_diff": m(fwd, "rel"),
            "output_grad_max_abs_diff": m(row["output_grad"]),
            "weight_grad_max_abs_diff": m(wgrad),
            "update_max_abs_diff": m(row["update"]),
            "in_place_forward_max_abs_diff": m(row["forward"]),
            "in_place_weight_grad_max_abs_diff": m(row["weight_grad"]),
            "within_tolerance": row["within_tolerance"],
            "in_place_within_tolerance": row["in_place_within_tolerance"],
            "cause": row["cause"],
            "unexplained": row["unexplained"],
        }

    return {
        "frameworks": list(columns),
        "step": context["step"],
        "tolerance": f"{RTOL:g} x max|reference| + {ATOL:g}, per tensor",
        "comparison": "isolated" if isolated else "in place",
        "first_divergent_layer": first,
        "layers": [layer(row) for row in rows],
    }


def run_diff(
    project: Project,
    columns: tuple[str, str],
    *,
    step: int = 0,
    init: str = "matched",
    optimizer: str | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Probe both columns in their own workers (engine.layer_probe) and compare them."""
    from engine.session import Session
    from engine.summary import NATIVE_OPTIMIZER_DIFFERENCES

    with tempfile.TemporaryDirectory(prefix="twintrain-diff-") as folder:
        # The reference first; then the other, each of its layers also run alone on the
        # reference's inputs and output gradients (engine.layer_probe).
        reference = str(probe_file(folder, columns[0]))
        for column, isolate in ((columns[0], None), (columns[1], reference)):
            with Session(
                project,
                frameworks=(column,),
                device=device,
                schedule="sequential",
                init=init,
                optimizer=optimizer,
                mode="probe",
                probe={"step": step, "dir": folder, "isolate": isolate},
            ) as session:
                session.start()
                session.wait()
                failed = {c: r.error for c, r in session.runs.items() if r.error}
            if failed:
                raise RuntimeError(
                    "; ".join(f"{label_of(c)} could not be probed: {e}" for c, e in failed.items())
                )
        a, b = (load_probe(probe_file(folder, c)) for c in columns)
    name = str(project.training.get("optimizer", {}).get("name", "adam"))
    context = {
        "step": step,
        "init": init,
        "optimizer": optimizer or init,
        "optimizer_note": NATIVE_OPTIMIZER_DIFFERENCES.get(name, f"{name}'s stock formulas"),
    }
    return result(a, b, project, columns, context)


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2e}"


def table_text(res: dict[str, Any]) -> str:
    """The per-layer table ``twintrain diff`` prints: the isolated figures (each layer alone on
    the reference's inputs) where there are some, the in-place ones beside them."""
    a, b = res["frameworks"]
    lines = [
        f"{label_of(b)} against {label_of(a)}, batch {res['step'] + 1} "
        f"(after {res['step']} steps), compared {res['comparison']}; "
        f"tolerance {res['tolerance']}",
        f"{'':<32}{'alone':^22}{'in place':^33}",
        f"{'layer':<16}{'type':<16}{'forward':>11}{'w grad':>11}{'forward':>11}"
        f"{'out grad':>11}{'update':>11}  verdict",
    ]
    for row in res["layers"]:
        verdict = row["cause"] or ("ok" if row["within_tolerance"] else "UNEXPLAINED")
        lines.append(
            f"{row['id']:<16}{row['type']:<16}{_cell(row['forward_max_abs_diff']):>11}"
            f"{_cell(row['weight_grad_max_abs_diff']):>11}"
            f"{_cell(row['in_place_forward_max_abs_diff']):>11}"
            f"{_cell(row['output_grad_max_abs_diff']):>11}{_cell(row['update_max_abs_diff']):>11}"
            f"  {verdict}"
        )
    first = res["first_divergent_layer"]
    lines.append(f"first divergent layer: {first}" if first else "every layer within tolerance")
    return "\n".join(lines)


DIVERGENCE_FILE = "divergence.json"


def parted_pair(summary: dict[str, Any]) -> tuple[tuple[str, str], int] | None:
    """The pair of a run whose loss curves parted first, and the step: ((reference, other),
    step), or None when none parted."""
    parity = summary.get("parity") or {}
    pairs = parity.get("pairs") or {}
    parted = [
        (p["first_divergent_step"], other)
        for other, p in pairs.items()
        if isinstance(p, dict) and p.get("first_divergent_step")
    ]
    if not parted:
        return None
    step, other = min(parted)
    return (parity["reference"], other), int(step)


def diff_parted_run(run_dir: Path, summary: dict[str, Any], project: Project) -> dict | None:
    """For a run whose curves parted: the layer comparison of the step where they parted
    (``--step`` one less: the batches before it replayed), written to ``divergence.json``; the
    report shows it. None when nothing parted; {"error": ...} when it could not be made (the
    report says so, nothing else fails)."""
    import json

    from engine.spec.project import write_atomic

    found = parted_pair(summary)
    if found is None:
        return None
    columns, step = found
    try:
        res = run_diff(
            project,
            columns,
            step=step - 1,
            init=summary.get("init", "matched"),
            optimizer=summary.get("optimizer"),
        )
    except (RuntimeError, OSError, ValueError) as exc:
        res = {"frameworks": list(columns), "step": step - 1, "error": str(exc)}
    write_atomic(Path(run_dir) / DIVERGENCE_FILE, json.dumps(res, indent=1))
    return res
