"""Orchestrates model exports: each framework writes its files in its own worker; the code
scripts, the cross-framework ONNX check and exports.json are done here (no framework needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.run_folder import prepare_run_dir
from engine.session import FrameworkRun, Session
from engine.spec.project import Project


def frameworks_for(formats: list[str]) -> tuple[str, ...]:
    from engine.export.formats import FRAMEWORK_FORMATS

    needed = [fw for fw in ("torch", "tensorflow") if set(formats) & set(FRAMEWORK_FORMATS[fw])]
    return tuple(needed)


def failed_entry(framework: str, error: str) -> dict[str, Any]:
    return {
        "format": "all",
        "framework": framework,
        "file": None,
        "bytes": None,
        "ok": False,
        "max_abs_diff": None,
        "check": None,
        "reason": f"{framework} worker failed: {error}",
    }


def collect(
    runs: dict[str, FrameworkRun],
    project: Project,
    out_dir: Path,
    formats: list[str],
    *,
    trained: bool = False,
) -> dict[str, Any]:
    """After the workers exported the models: complete the export folder."""
    entries: list[dict[str, Any]] = []
    for name, run in runs.items():
        if run.exports:
            entries.extend(run.exports)
        elif run.error:
            entries.append(failed_entry(name, run.error))
    return complete(entries, project, out_dir, formats, trained=trained)


def complete(
    entries: list[dict[str, Any]],
    project: Project,
    out_dir: Path,
    formats: list[str],
    *,
    trained: bool,
) -> dict[str, Any]:
    """Add the code scripts, cross-check the two ONNX files, write exports.json.

    Untrained models start from the same weights, so their ONNX files must agree; trained ones
    may have drifted apart (Dropout, rounding), so the difference is then reported, not judged.
    """
    from engine.export.manifest import cross_check, write_manifest

    entries = list(entries)
    if "code" in formats:
        from engine.export.code import write_code

        entries.extend(write_code(project, out_dir))
    sample = _sample(project)
    cross = cross_check(out_dir, sample, expect_match=not trained) if "onnx" in formats else None
    path = write_manifest(out_dir, entries, cross, project=project.name)
    return {"path": str(path), "entries": entries, "cross_check": cross}


def _sample(project: Project):
    from engine.data.load import load_data

    data = load_data(project)
    return data.x_val[:16] if len(data.x_val) else data.x_train[:16]


def export_untrained(
    project: Project,
    out_dir: Path,
    formats: list[str],
    *,
    force: bool = False,
    device: str = "auto",
    weights: Path | None = None,
) -> dict[str, Any]:
    """`twintrain export`: build both models from the matched initial weights and write the files.

    ``weights``: a run folder (or its ``weights/`` folder): build each framework from the trained
    weights that run kept for it instead (engine.trained_weights)."""
    from engine.trained_weights import available, resolve_dir

    weights_dir = None
    if weights is not None:
        weights_dir = resolve_dir(weights)
        if not available(weights_dir):
            raise FileNotFoundError(
                f"{weights}: no trained weights here (torch.npz or tensorflow.npz)"
            )
    out_dir = prepare_run_dir(out_dir, force=force)
    (out_dir / "charts").rmdir()
    frameworks = frameworks_for(formats)
    trained = weights_dir is not None
    if frameworks:
        with Session(
            project,
            frameworks=frameworks,
            device=device,
            schedule="parallel",
            mode="export",
            export={"formats": formats, "dir": str(out_dir.resolve())},
            load_weights=weights_dir,
        ) as session:
            session.start()
            session.wait()
            return collect(session.runs, project, out_dir, formats, trained=trained)
    return collect({}, project, out_dir, formats, trained=trained)


REQUEST = ".export-request.json"


def partial_name(framework: str) -> str:
    return f".exports-{framework}.json"


def complete_trained(run_dir: Path) -> dict[str, Any] | None:
    """For a run trained with exports: gather what each worker wrote (recorded by the run
    recorder), then complete the models folder. None when the run exported nothing."""
    import json

    from engine.spec import from_dict

    models = Path(run_dir) / "models"
    request = models / REQUEST
    if not request.is_file():
        return None
    formats = json.loads(request.read_text(encoding="utf-8"))["formats"]
    summary = json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    project = from_dict(
        json.loads((Path(run_dir) / "project.twintrain.json").read_text(encoding="utf-8"))
    )
    source = summary.get("project_path")
    if source:
        project.path = Path(source)
    entries: list[dict[str, Any]] = []
    for framework, figures in summary["frameworks"].items():
        partial = models / partial_name(framework)
        if partial.is_file():
            entries.extend(json.loads(partial.read_text(encoding="utf-8")))
        elif "error" in figures:
            entries.append(failed_entry(framework, figures["error"]))
    result = complete(entries, project, models, formats, trained=True)
    for leftover in [request, *(models / partial_name(f) for f in summary["frameworks"])]:
        leftover.unlink(missing_ok=True)
    return result
