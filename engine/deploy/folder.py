"""What a benchmark runs on: a run folder or an export folder, resolved to its exported files,
its project, the weights of its baseline and the folder the results go to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.deploy.registry import EAGER, OPENVINO, OPTIONAL_PACKAGES, RUNNERS
from engine.export.formats import MANIFEST
from engine.spec.errors import SpecError
from engine.spec.project import Project

PROJECT_FILE = "project.twintrain.json"
MODELS_DIR = "models"


@dataclass
class Item:
    """One row of the benchmark: a file (or the eager baseline) and how to run it."""

    label: str  # the ``file`` column: the file's name, or 'eager: <column>'
    format: str
    framework: str  # the column that wrote it (its baseline's)
    path: Path | None
    keras_backend: str | None = None
    weights: Path | None = None  # the baseline's weights (None: the matched initial weights)
    source: str | None = None  # a quantized file: the float file it came from
    error: str | None = None  # known before it runs (file missing)
    skip: str | None = None  # known to be skipped before it runs (an optional runtime missing)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def baseline(self) -> bool:
        return self.format == EAGER

    @property
    def quantized(self) -> bool:
        return self.source is not None


@dataclass
class Target:
    models: Path  # the folder holding exports.json
    out: Path  # where deploy.json goes: the run folder for a run, else the export folder
    run: Path | None  # the run folder, when there is one
    project: Project
    weights: Path | None  # the folder of <column>.npz, or None for the matched initial weights
    manifest: dict[str, Any]
    items: list[Item]


def resolve(folder: Path) -> Target:
    """A run folder, a run's models/ or a `twintrain export` folder -> what to benchmark.

    Raises SpecError, one line naming what to fix, for anything else."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise SpecError(f"'{folder}' is not a folder: give a run folder or an export folder")
    if (folder / MANIFEST).is_file():
        models = folder
        parent = folder.parent
        run = (
            parent
            if (parent / "summary.json").is_file() and (parent / PROJECT_FILE).is_file()
            else None
        )
    elif (folder / MODELS_DIR / MANIFEST).is_file():
        models, run = folder / MODELS_DIR, folder
    elif (folder / "summary.json").is_file():
        raise SpecError(
            f"run folder '{folder}' has no exported models ({MODELS_DIR}/{MANIFEST}): train with "
            "--export all, or write them with `twintrain export FILE --out DIR --weights RUN_DIR`"
        )
    else:
        raise SpecError(
            f"'{folder}' is neither a run folder nor an export folder (no {MANIFEST} in it or "
            f"in {MODELS_DIR}/)"
        )
    try:
        manifest = json.loads((models / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError(f"{models / MANIFEST}: cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise SpecError(f"{models / MANIFEST}: not an exports manifest (no 'files' list)")
    project = _project(models, run, manifest)
    weights: Path | None
    if run is not None:
        weights = run / "weights"
    else:
        source = manifest.get("weights")
        weights = Path(source) if source else None
    items = _items(models, manifest, weights)
    if not items:
        raise SpecError(f"{models / MANIFEST}: lists no model file the benchmark can run")
    return Target(models, run or models, run, project, weights, manifest, items)


def _project(models: Path, run: Path | None, manifest: dict[str, Any]) -> Project:
    from engine.spec import from_dict

    home = run if run is not None else models
    path = home / PROJECT_FILE
    if not path.is_file():
        raise SpecError(
            f"'{models}' holds no {PROJECT_FILE} (exports written before bench-export existed): "
            "export again with `twintrain export FILE --out DIR`, or give the run folder"
        )
    project = from_dict(json.loads(path.read_text(encoding="utf-8")))
    source = None
    if run is not None and (run / "summary.json").is_file():
        source = json.loads((run / "summary.json").read_text(encoding="utf-8")).get("project_path")
    else:
        source = manifest.get("project_path")
    # data files are relative to the project's own folder, when it is still there
    project.path = Path(source) if source and Path(source).is_file() else path
    return project


def _items(models: Path, manifest: dict[str, Any], weights: Path | None) -> list[Item]:
    from engine.runtimes import RUNTIMES, runtime
    from engine.trained_weights import weights_file

    items: list[Item] = []
    columns: list[str] = []
    for e in manifest["files"]:
        fmt, name, column = e.get("format"), e.get("file"), e.get("framework")
        if fmt not in RUNNERS or not name or not column:
            continue
        if column.partition(":")[0] not in RUNTIMES:
            continue
        path = models / str(name).rstrip("/")
        error = None
        if not path.exists():
            error = f"{name} is not in the folder" + (
                f" (its export failed: {e['reason']})" if e.get("reason") else ""
            )
        backend = e.get("keras_backend") or runtime(column).keras_backend
        items.append(Item(str(name).rstrip("/"), fmt, column, path, backend, error=error))
        if fmt == "onnx":
            items.append(_openvino(items[-1]))
        if column not in columns:
            columns.append(column)
    baselines = []
    for column in columns:
        wfile = weights_file(weights, column) if weights is not None else None
        error = None
        if wfile is not None and not wfile.is_file():
            error = f"no trained weights for the baseline ({wfile} is missing)"
        label = (
            f"{weights.name}/{wfile.name}" if wfile is not None and weights else "initial weights"
        )
        baselines.append(
            Item(
                f"eager: {column} ({label})",
                EAGER,
                column,
                None,
                runtime(column).keras_backend,
                weights=wfile,
                error=error,
            )
        )
    return baselines + items


def _openvino(onnx: Item) -> Item:
    """The ONNX file's row in OpenVINO: skipped, without a child, where it is not installed."""
    import importlib.util

    package = OPTIONAL_PACKAGES[OPENVINO]
    skip = None
    if importlib.util.find_spec(package) is None:  # finds the package without importing it
        skip = f"runtime not installed: {package} (optional; pip install {package})"
    return Item(onnx.label, OPENVINO, onnx.framework, onnx.path, error=onnx.error, skip=skip)
