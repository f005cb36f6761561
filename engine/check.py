"""`twintrain check`: per-layer shapes and parameter counts, as a table or as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.spec.graph import validate
from engine.spec.project import Project


def check_report(project: Project) -> dict[str, Any]:
    """The JSON form of `twintrain check --json` (docs/cli.md): layers, totals per framework,
    and flagged differences."""
    graph = validate(project)
    layers = []
    differences = []
    for layer in project.layers:
        info = graph.layers[layer.id]
        entry = {
            "id": info.id,
            "type": info.type,
            "output_shape": list(info.output_shape or ()),
            "params": info.params,
            "params_by_framework": {
                "torch": info.torch_params,
                "tensorflow": info.tensorflow_params,
            },
            "macs": info.macs,
        }
        layers.append(entry)
        if info.torch_params != info.tensorflow_params:
            differences.append(
                {
                    "id": info.id,
                    "torch": info.torch_params,
                    "tensorflow": info.tensorflow_params,
                    "why": info.param_note,
                }
            )
    ds = graph.dataset
    return {
        "project": project.name,
        "input_shape": list(project.input_shape),
        "output": graph.output_id,
        "layers": layers,
        "params": {"spec": graph.params, "torch": graph.torch_params, "tensorflow": graph.params},
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
        },
    }


def _fmt(n: int) -> str:
    return f"{n:,}"


def format_check_table(project: Project, report: dict[str, Any]) -> str:
    rows = [("id", "type", "output shape", "params", "torch", "tensorflow", "MACs")]
    for layer in report["layers"]:
        by = layer["params_by_framework"]
        mark = " *" if by["torch"] != by["tensorflow"] else ""
        rows.append(
            (
                layer["id"],
                layer["type"],
                str(layer["output_shape"]),
                _fmt(layer["params"]),
                _fmt(by["torch"]) + mark,
                _fmt(by["tensorflow"]),
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
            _fmt(totals["torch"]),
            _fmt(totals["tensorflow"]),
            _fmt(report["macs_per_sample"]),
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {3, 4, 5, 6}

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
    out = head + ["", line(rows[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[1:-1]]
    out += ["  ".join("-" * w for w in widths), line(rows[-1])]
    if report["differences"]:
        out.append("")
        for d in report["differences"]:
            out.append(
                f"* {d['id']}: torch {_fmt(d['torch'])} "
                f"vs tensorflow {_fmt(d['tensorflow'])}: {d['why']}"
            )
    out.append("")
    out.append(
        "OK: the project is valid. (params = every weight TwinTrain initialises; MACs per sample)"
    )
    return "\n".join(out)
