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


def collect(runs: dict[str, FrameworkRun], project: Project, out_dir: Path, formats: list[str], *,
            trained: bool = False) -> dict[str, Any]:
    """After the workers exported: add the code scripts, cross-check the ONNX files, write exports.json.

    Untrained models start from the same weights, so their ONNX files must agree; trained ones
    may have drifted apart (Dropout, rounding), so the difference is then reported, not judged.
    """
    from engine.export.manifest import cross_check, write_manifest

    entries: list[dict[str, Any]] = []
    for name, run in runs.items():
        if run.exports:
            entries.extend(run.exports)
        elif run.error:
            entries.append({"format": "all", "framework": name, "file": None, "bytes": None, "ok": False,
                            "max_abs_diff": None, "check": None, "reason": f"{name} worker failed: {run.error}"})
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


def export_untrained(project: Project, out_dir: Path, formats: list[str], *, force: bool = False,
                     device: str = "auto") -> dict[str, Any]:
    """`twintrain export`: build both models from the matched initial weights and write the files."""
    out_dir = prepare_run_dir(out_dir, force=force)
    (out_dir / "charts").rmdir()
    frameworks = frameworks_for(formats)
    if frameworks:
        with Session(project, frameworks=frameworks, device=device, schedule="parallel", mode="export",
                     export={"formats": formats, "dir": str(out_dir.resolve())}) as session:
            session.start()
            session.wait()
            return collect(session.runs, project, out_dir, formats)
    return collect({}, project, out_dir, formats)
