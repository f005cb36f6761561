"""Where file dialogs start: the last folder used in any of them (kept in the settings file),
else the project's folder, else the home folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from gui.paths import settings_file

LAST_DIR_KEY = "dialogs/last_dir"


def _settings() -> QSettings:
    return QSettings(str(settings_file()), QSettings.Format.IniFormat)


def start_dir(project_dir: Path | None = None) -> Path:
    """The folder a file dialog should open in."""
    last = _settings().value(LAST_DIR_KEY, "")
    if last and Path(str(last)).is_dir():
        return Path(str(last))
    if project_dir is not None and Path(project_dir).is_dir():
        return Path(project_dir)
    return Path.home()


def remember(path: str | Path) -> None:
    """Remember the folder of a chosen file, or a chosen folder (its nearest existing parent)."""
    path = Path(path).absolute()
    while not path.is_dir() and path.parent != path:
        path = path.parent
    settings = _settings()
    settings.setValue(LAST_DIR_KEY, str(path))
    settings.sync()


def start_dir_within(root: Path, current: Path | None = None) -> Path:
    """Where a dialog for a file that must lie under ``root`` opens (data files are relative to
    the project file): the current file's folder, else the last folder used if it is under
    ``root``, else ``root``."""
    root = Path(root).resolve()
    candidates = [Path(current).parent] if current is not None else []
    candidates.append(start_dir(root))
    for folder in candidates:
        folder = (root / folder).resolve()
        if folder.is_dir() and folder.is_relative_to(root):
            return folder
    return root
