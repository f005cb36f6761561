"""The inspector's "Browse…" for a data file opens where the user is likely to look: the current
file's folder, else the last folder used if it is inside the project's folder, else the
project's folder (data paths are relative to the project file)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QPushButton

from engine.presets import preset_path
from gui import folders
from tests.gui.modal import answer_modal


def _project(tmp_path: Path, data: str) -> Path:
    spec = json.loads(preset_path("xor_mlp").read_text())
    spec["training"]["dataset"] = {"name": "csv", "path": data, "target": "label"}
    path = tmp_path / "proj" / "my.twintrain.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec))
    return path


def _dialog_dir(win) -> Path:
    dirs: list[Path] = []
    seen = answer_modal(
        lambda d: (
            dirs.append(Path(d.directory().absolutePath())) if isinstance(d, QFileDialog) else None
        )
    )
    field = win.inspector.form.fields["training.dataset.path"]
    browse = next(b for b in field.findChildren(QPushButton) if b.text() == "Browse…")
    browse.click()
    assert seen and dirs, "no file dialog opened"
    return dirs[0]


def test_browse_starts_in_the_current_data_files_folder(win, tmp_path):
    path = _project(tmp_path, "data/train/a.csv")
    (path.parent / "data" / "train").mkdir(parents=True)
    folders.remember(tmp_path)  # outside the project: not where its data can be
    assert win.open_path(path, ask=False)
    assert _dialog_dir(win) == path.parent / "data" / "train"


def test_browse_starts_in_the_last_folder_used_inside_the_project(win, tmp_path):
    path = _project(tmp_path, "gone/a.csv")  # its folder does not exist
    inside = path.parent / "more"
    inside.mkdir()
    folders.remember(inside / "x.csv")
    assert win.open_path(path, ask=False)
    assert _dialog_dir(win) == inside
    folders.remember(tmp_path / "elsewhere.csv")  # outside: the project's own folder instead
    assert _dialog_dir(win) == path.parent


def test_start_dir_within_never_leaves_the_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    assert folders.start_dir_within(root, Path("../../etc/passwd")) == root.resolve()
