"""The recent-files list, kept in an ini file in the user's data folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from gui.paths import settings_file

MAX_RECENT = 8


class RecentFiles:
    def __init__(self, path: Path | None = None) -> None:
        self._settings = QSettings(str(path or settings_file()), QSettings.Format.IniFormat)

    def paths(self) -> list[Path]:
        raw = self._settings.value("recent/files", [])
        if isinstance(raw, str):  # QSettings gives one entry as a plain string
            raw = [raw]
        return [Path(p) for p in raw if p] if isinstance(raw, list) else []

    def add(self, path: Path) -> None:
        path = Path(path).resolve()
        items = [path, *(p for p in self.paths() if p != path)][:MAX_RECENT]
        self._settings.setValue("recent/files", [str(p) for p in items])
        self._settings.sync()

    def remove(self, path: Path) -> None:
        self._settings.setValue("recent/files", [str(p) for p in self.paths() if p != Path(path)])
        self._settings.sync()

    def clear(self) -> None:
        self._settings.setValue("recent/files", [])
        self._settings.sync()
