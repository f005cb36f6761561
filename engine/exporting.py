"""Orchestrates model exports: each framework writes its files in its own worker; the code
scripts, the cross-framework ONNX check and exports.json are done here (no framework needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.run_folder import prepare_run_dir
from engine.runtimes import DEFAULT_RUNTIMES
from engine.session import FrameworkRun, Session
from engine.spec.project import Project, write_atomic

if TYPE_CHECKING:
    import numpy as np

# `twintrain export` keeps the project it exported beside the files (a run keeps its own), so
# the folder alone can be rebuilt and benchmarked (engine.deploy).
PROJECT_FILE = "project.twintrain.json"


def frameworks_for(
    formats: list[str], frameworks: tuple[str, ...] = DEFAULT_RUNTIMES
) -> tuple[str, ...]:
    """Those of ``frameworks`` whose worker writes (or says it cannot write) one of ``formats``."""
    from engine.runtimes import runtime

    return tuple(
        fw
        for fw in frameworks
        if set(formats) & (set(runtime(fw).exports) | set(runtime(fw).no_export))
    )


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


def skipped_frameworks(
    formats: list[str], have: list[str], frameworks: tuple[str, ...] = DEFAULT_RUNTIMES
) -> dict[str, list[str]]:
    """{framework: its formats asked for} for frameworks with no trained weights in the run
    (a run of PyTorch alone cannot give TensorFlow's files)."""
    from engine.runtimes import runtime

    return {
        fw: [f for f in formats if f in runtime(fw).exports]
        for fw in frameworks_for(formats, frameworks)
        if fw not in have
    }


def collect(
    runs: dict[str, FrameworkRun],
    project: Project,
    out_dir: Path,
    formats: list[str],
    *,
    trained: bool = False,
    skipped: dict[str, str] | None = None,
    weights: str | None = None,
) -> dict[str, Any]:
    """After the workers exported the models: complete the export folder."""
    entries: list[dict[str, Any]] = []
    for name, run in runs.items():
        if run.exports:
            entries.extend(run.exports)
        elif run.error:
            entries.append(failed_entry(name, run.error))
    return complete(
        entries,
        project,
        out_dir,
        formats,
        trained=trained,
        skipped=skipped,
        frameworks=tuple(runs) or None,
        weights=weights,
    )


def complete(
    entries: list[dict[str, Any]],
    project: Project,
    out_dir: Path,
    formats: list[str],
    *,
    trained: bool,
    skipped: dict[str, str] | None = None,
    frameworks: tuple[str, ...] | None = None,
    weights: str | None = None,
) -> dict[str, Any]:
    """Add the code scripts, cross-check the ONNX files, write exports.json.

    Untrained models start from the same weights, so their ONNX files must agree; trained ones
    may have drifted apart (Dropout, rounding), so the difference is then reported, not judged.
    ``skipped``: {framework: why} for frameworks deliberately not exported (no trained weights);
    they are listed as skipped, not failed, and there is no second ONNX file to compare.
    ``frameworks``: the runtimes exported, whose ONNX files are compared (default: today's two).
    ``weights``: the trained weights' folder the models were built from, or None for the
    matched initial weights (kept in exports.json for ``twintrain bench-export``'s baseline).
    """
    from engine.export.manifest import cross_check, write_manifest

    entries = list(entries)
    if "code" in formats:
        from engine.export.code import write_code

        entries.extend(write_code(project, out_dir))
    sample = _sample(project)
    compare = "onnx" in formats and not skipped
    cross = (
        cross_check(out_dir, sample, expect_match=not trained, frameworks=frameworks)
        if compare
        else None
    )
    path = write_manifest(
        out_dir,
        entries,
        cross,
        project=project.name,
        skipped=skipped,
        weights=weights,
        project_path=str(project.path.resolve()) if project.path else None,
    )
    return {"path": str(path), "entries": entries, "cross_check": cross, "skipped": skipped or {}}


def _sample(project: Project) -> np.ndarray:
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
    frameworks: tuple[str, ...] = DEFAULT_RUNTIMES,
) -> dict[str, Any]:
    """`twintrain export`: build each model from the matched initial weights and write the files.

    ``weights``: a run folder (or its ``weights/`` folder): build each framework from the trained
    weights that run kept for it instead (engine.trained_weights). ``frameworks``: the runtimes
    to export (default: today's two)."""
    chosen = frameworks
    from engine.trained_weights import available, resolve_dir

    weights_dir = None
    if weights is not None:
        weights_dir = resolve_dir(weights)
        if not available(weights_dir):
            raise FileNotFoundError(f"{weights}: no trained weights here (<framework>.npz)")
    frameworks = frameworks_for(formats, chosen)
    skipped: dict[str, str] = {}
    if weights_dir is not None:
        have = available(weights_dir)
        missing = skipped_frameworks(formats, have, chosen)
        if missing and not set(frameworks) - set(missing) and "code" not in formats:
            asked = sorted({f for formats_of in missing.values() for f in formats_of})
            raise FileNotFoundError(
                f"{weights}: the run kept trained weights only for {_names(have)}; "
                f"{', '.join(asked)} need trained {_names(list(missing))} weights: choose "
                "other formats or the initial weights"
            )
        skipped = {
            fw: f"the run did not train {_names([fw])} (no trained weights): "
            f"{', '.join(asked)} not written"
            for fw, asked in missing.items()
        }
        frameworks = tuple(fw for fw in frameworks if fw not in missing)
    out_dir = prepare_run_dir(out_dir, force=force)
    (out_dir / "charts").rmdir()
    trained = weights_dir is not None
    write_atomic(out_dir / PROJECT_FILE, project.to_json())
    source = str(weights_dir.resolve()) if weights_dir is not None else None
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
            return collect(
                session.runs,
                project,
                out_dir,
                formats,
                trained=trained,
                skipped=skipped,
                weights=source,
            )
    return collect({}, project, out_dir, formats, trained=trained, skipped=skipped, weights=source)


def _names(frameworks: list[str]) -> str:
    from engine.style import label_of

    return " and ".join(label_of(fw) for fw in frameworks) or "no framework"


REQUEST = ".export-request.json"


def partial_name(framework: str) -> str:
    from engine.runtimes import file_stem

    return f".exports-{file_stem(framework)}.json"


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
    result = complete(
        entries,
        project,
        models,
        formats,
        trained=True,
        frameworks=tuple(summary["frameworks"]),
        weights=str((Path(run_dir) / "weights").resolve()),
    )
    for leftover in [request, *(models / partial_name(f) for f in summary["frameworks"])]:
        leftover.unlink(missing_ok=True)
    return result
