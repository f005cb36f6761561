"""`twintrain check`: per-layer shapes and parameter counts, as a table or as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.runtimes import RUNTIMES
from engine.spec.graph import validate
from engine.spec.project import Project

# Runtime.param_count -> the attribute holding that count, on a layer's info and on the graph.
PARAM_COUNTS = {"torch": "torch_params", "keras": "tensorflow_params"}
GRAPH_COUNTS = {"torch": "torch_params", "keras": "params"}


def counting_columns() -> list[str]:
    """One table column per way of counting parameters, named by the first runtime counting that
    way (torch, tensorflow); the other runtimes count as one of them (``same_count``)."""
    firsts: dict[str, str] = {}
    for r in RUNTIMES.values():
        firsts.setdefault(r.param_count, r.id)
    return list(firsts.values())


def same_count() -> dict[str, str]:
    """{runtime: the column whose count it shares} for the runtimes without a column."""
    columns = {RUNTIMES[c].param_count: c for c in counting_columns()}
    return {r.id: columns[r.param_count] for r in RUNTIMES.values() if r.id not in columns.values()}


def check_report(project: Project) -> dict[str, Any]:
    """The JSON form of `twintrain check --json` (docs/cli.md): layers, totals per framework,
    and flagged differences."""
    graph = validate(project)
    layers = []
    differences = []
    for layer in project.layers:
        info = graph.layers[layer.id]
        by_framework: dict[str, int] = {
            r.id: getattr(info, PARAM_COUNTS[r.param_count]) for r in RUNTIMES.values()
        }
        entry = {
            "id": info.id,
            "type": info.type,
            "output_shape": list(info.output_shape or ()),
            "params": info.params,
            "params_by_framework": by_framework,
            "macs": info.macs,
        }
        layers.append(entry)
        counts = {c: by_framework[c] for c in counting_columns()}
        if len(set(counts.values())) > 1:
            differences.append({"id": info.id, **counts, "why": info.param_note})
    ds = graph.dataset
    return {
        "project": project.name,
        "input_shape": list(project.input_shape),
        "output": graph.output_id,
        "layers": layers,
        "params": {
            "spec": graph.params,
            **{r.id: getattr(graph, GRAPH_COUNTS[r.param_count]) for r in RUNTIMES.values()},
        },
        "macs_per_sample": graph.macs,
        "differences": differences,
        "dataset": None
        if ds is None
        else {
            "name": ds.name,
            "x_shape": list(ds.x_shape),
            "task": ds.task,
            "n_classes": ds.n_classes,
            "n_samples": ds.n_samples,
            "class_names": list(ds.class_names),
        },
    }


def _fmt(n: int) -> str:
    return f"{n:,}"


def format_check_table(project: Project, report: dict[str, Any]) -> str:
    columns = counting_columns()
    rows = [("id", "type", "output shape", "params", *columns, "MACs")]
    for layer in report["layers"]:
        by = layer["params_by_framework"]
        counts = [by[c] for c in columns]
        marks = [" *" if i == 0 and len(set(counts)) > 1 else "" for i in range(len(columns))]
        rows.append(
            (
                layer["id"],
                layer["type"],
                str(layer["output_shape"]),
                _fmt(layer["params"]),
                *[_fmt(n) + m for n, m in zip(counts, marks)],
                _fmt(layer["macs"]),
            )
        )
    totals = report["params"]
    rows.append(
        (
            "total",
            "",
            "",
            _fmt(totals["spec"]),
            *[_fmt(totals[c]) for c in columns],
            _fmt(report["macs_per_sample"]),
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = set(range(3, len(rows[0])))

    def line(r: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=False))
        ).rstrip()

    ds = report["dataset"]
    where = f"  ({project.path})" if project.path else ""
    head = [f"{project.name}{where}"]
    if ds:
        target = f"{ds['n_classes']} classes" if ds["task"] == "classification" else "regression"
        head.append(
            f"input {report['input_shape']}, "
            f"dataset {ds['name']} ({ds['n_samples']} samples, {target}), "
            f"output '{report['output']}'"
        )
        if ds.get("class_names"):  # an image folder's sub-folders, a text CSV's labels, sorted
            head.append(f"classes: {', '.join(ds['class_names'])}")
    out = head + ["", line(rows[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[1:-1]]
    out += ["  ".join("-" * w for w in widths), line(rows[-1])]
    if report["differences"]:
        out.append("")
        for d in report["differences"]:
            shown = " vs ".join(f"{c} {_fmt(d[c])}" for c in columns)
            out.append(f"* {d['id']}: {shown}: {d['why']}")
    shares: dict[str, list[str]] = {}
    for fw, column in same_count().items():
        shares.setdefault(column, []).append(fw)
    if shares:
        out.append("")
        out += [f"{', '.join(fws)} count parameters as {c} does" for c, fws in shares.items()]
    out.append("")
    out.append(
        "OK: the project is valid. (params = every weight TwinTrain initialises; MACs per sample)"
    )
    return "\n".join(out)
