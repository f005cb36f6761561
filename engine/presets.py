"""The bundled presets and how a command-line argument names a project (a path or a preset)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.resources import resource_dir
from engine.spec.errors import SpecError, closest
from engine.spec.project import Project, read_project

SUFFIX = ".twintrain.json"
DEFAULT_PRESET = "digits_mlp"


@dataclass(frozen=True)
class Preset:
    key: str  # file stem, what the user types: twintrain train digits_cnn
    path: Path
    name: str
    description: str


def presets_dir() -> Path:
    return resource_dir("presets")


def list_presets() -> list[Preset]:
    out = []
    for path in sorted(presets_dir().glob(f"*{SUFFIX}")):
        project = read_project(path)
        out.append(Preset(path.name[: -len(SUFFIX)], path, project.name, project.description))
    return out


def preset_path(key: str) -> Path | None:
    normalized = key[: -len(SUFFIX)] if key.endswith(SUFFIX) else key
    path = presets_dir() / f"{normalized.replace('-', '_')}{SUFFIX}"
    return path if path.is_file() else None


def resolve_project_path(arg: str) -> Path:
    """A user's FILE argument: an existing file, else a preset key, else a clear error."""
    path = Path(arg)
    if path.exists():
        return path
    found = preset_path(arg)
    if found is not None:
        return found
    keys = [p.name[: -len(SUFFIX)] for p in sorted(presets_dir().glob(f"*{SUFFIX}"))]
    raise SpecError(
        f"no such file, and no preset of that name{closest(arg, keys)} (see `twintrain presets`)",
        file=arg,
    )


def load_project_arg(arg: str) -> Project:
    return read_project(resolve_project_path(arg))
