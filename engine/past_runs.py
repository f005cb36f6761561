"""Runs kept on disk, read back for the Runs panel: a display name, when, the settings that
distinguish them, their figures and curves (tolerating a run that crashed half-written).

A run's display name lives in ``run.json`` (``{"name": ...}``) in its folder, so renaming never
moves a folder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.charts import RunData, load_run, read_metrics
from engine.runtimes import MODE_SEP, RUNTIMES
from engine.spec.project import write_atomic
from engine.style import LABELS

RUN_META = "run.json"
SHORT = {r.id: r.short or r.label for r in RUNTIMES.values()}


def short_label(column: str) -> str:
    """'PyTorch', 'TF (xla)': a column's name for tight places (the Runs list)."""
    name, _, mode = column.partition(MODE_SEP)
    base = SHORT.get(name, name)
    return base if not mode or name not in RUNTIMES else f"{base} ({mode})"


_STAMP = re.compile(r"-(\d{8})-(\d{6})(?:-\d+)?$")
SETTINGS = ("frameworks", "init", "optimizer", "schedule", "device")


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((Path(folder) / RUN_META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def set_display_name(folder: Path, name: str) -> None:
    """Store (or, with an empty name, drop) a run's display name; the folder stays where it is."""
    name = " ".join(str(name).split())[:200]
    meta = read_meta(folder)
    if name:
        meta["name"] = name
    else:
        meta.pop("name", None)
    write_atomic(Path(folder) / RUN_META, json.dumps(meta, indent=2) + "\n")


def read_summary(folder: Path) -> dict[str, Any]:
    try:
        summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def run_info(folder: Path) -> dict[str, Any]:
    """{'name', 'time', 'settings': {key: text}, 'state', 'folder'} of a run folder."""
    folder = Path(folder)
    summary = read_summary(folder)
    meta = read_meta(folder)
    path = summary.get("project_path")
    name = (
        meta.get("name")
        or (Path(path).name.split(".")[0] if path else None)
        or summary.get("project")
        or _STAMP.sub("", folder.name)
        or folder.name
    )
    match = _STAMP.search(folder.name)
    try:
        when = (
            datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S")
            if match
            else datetime.fromtimestamp(folder.stat().st_mtime)
        )
        stamp = f"{when:%Y-%m-%d %H:%M:%S}"
    except (ValueError, OSError):
        stamp = ""
    found = summary.get("frameworks")
    frameworks: dict[str, Any] = found if isinstance(found, dict) else {}
    devices = sorted(
        {
            str(f.get("device"))
            for f in frameworks.values()
            if isinstance(f, dict) and f.get("device")
        }
    )
    settings = {}
    if frameworks:
        settings["frameworks"] = " + ".join(short_label(fw) for fw in frameworks)
    for key in ("init", "optimizer"):
        if summary.get(key):
            settings[key] = f"{summary[key]} {key}"
    if summary.get("schedule"):
        settings["schedule"] = str(summary["schedule"])
    if devices or summary.get("device_requested"):
        settings["device"] = "/".join(devices) or str(summary["device_requested"])
    states = []
    for fw, f in frameworks.items():
        if not isinstance(f, dict):
            continue
        status = "failed" if "error" in f else f.get("status", "finished")
        if status != "finished":
            states.append(f"{short_label(fw)} {status}")
    state = ", ".join(states) if summary else "incomplete"
    return {
        "name": str(name),
        "time": stamp,
        "settings": settings,
        "state": state,
        "folder": folder,
        "project": summary.get("project"),
        "project_path": path,
    }


def settings_text(info: dict[str, Any], keys: Iterable[str] = SETTINGS) -> str:
    parts = [info["settings"][k] for k in keys if k in info["settings"]]
    if info["state"]:
        parts.append(info["state"])
    return " · ".join(parts)


def describe(info: dict[str, Any]) -> str:
    """Two lines: 'name · time' and the settings (with what did not finish)."""
    return f"{info['name']} · {info['time']}\n{settings_text(info)}".rstrip()


def full_text(info: dict[str, Any]) -> str:
    lines = [info["name"], f"Started {info['time']}"]
    labels = {
        "frameworks": "Frameworks",
        "init": "Init",
        "optimizer": "Optimizer",
        "schedule": "Schedule",
        "device": "Device",
    }
    lines += [f"{labels[k]}: {v}" for k, v in info["settings"].items()]
    lines.append(f"State: {info['state'] or 'finished'}")
    if info.get("project_path"):
        lines.append(f"Project: {info['project_path']}")
    lines.append(f"Folder: {info['folder']}")
    return "\n".join(lines)


def distinguishing(infos: list[dict[str, Any]]) -> list[str]:
    """Short labels for runs shown together: name and time, plus the settings that differ."""
    differ = [k for k in SETTINGS if len({i["settings"].get(k) for i in infos}) > 1]
    labels = []
    for info in infos:
        extra = [info["settings"][k] for k in differ if k in info["settings"]]
        label = f"{info['name']} {info['time'][11:16] or ''}".strip()
        labels.append(f"{label} ({', '.join(extra)})" if extra else label)
    return labels


def load_past_run(folder: Path) -> RunData:
    """The run folder read back like the charts process reads it, but a missing or half-written
    file (a crash) gives what there is instead of an error."""
    try:
        return load_run(folder)
    except (OSError, ValueError, KeyError):
        pass
    run = RunData(read_summary(folder))
    try:
        full = load_run_steps_only(folder)
        run.steps, run.epochs = full.steps, full.epochs
    except (OSError, ValueError, KeyError):
        pass
    return run


def load_run_steps_only(folder: Path) -> RunData:
    """The per-step columns alone (summary.json comes at each epoch, epochs.csv rows at their end:
    a crash in the first epoch leaves neither)."""
    return RunData({}, read_metrics(Path(folder)), {})


def framework_label(fw: str) -> str:
    return LABELS.get(fw, fw).split("/")[0]
