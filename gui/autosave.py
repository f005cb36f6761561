"""Autosave every minute to the user's data folder, and find what a crashed session left.

Each running app writes ``autosave-<pid>.json``; a clean exit or a save removes it. A file
whose process is gone is what a crash left behind, and the next start offers to recover it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from PySide6.QtCore import QObject, QTimer

from engine.spec.project import write_atomic
from gui.document import AUTOSAVE_FORMAT, Document
from gui.paths import autosave_dir

INTERVAL_MS = 60_000


@dataclass(frozen=True)
class Recovery:
    file: Path
    payload: dict[str, Any]
    saved_at: float

    @property
    def label(self) -> str:
        path = self.payload.get("path")
        name = Path(path).name if path else self.payload.get("project", {}).get("name", "untitled")
        return (
            f"'{name}', autosaved {time.strftime('%Y-%m-%d %H:%M', time.localtime(self.saved_at))}"
        )


class Autosaver(QObject):
    def __init__(
        self, doc: Document, directory: Path | None = None, interval_ms: int = INTERVAL_MS
    ) -> None:
        super().__init__(doc)
        self.doc = doc
        self.directory = directory or autosave_dir()
        self.file = self.directory / f"autosave-{os.getpid()}.json"
        self._saved_index: int | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_if_needed)
        self.timer.start()
        doc.modified_changed.connect(lambda modified: None if modified else self.discard())

    def save_if_needed(self) -> bool:
        """Write the document if it has unsaved changes not autosaved yet."""
        if not self.doc.is_modified:
            return False
        index = self.doc.undo_stack.index()
        if index == self._saved_index and self.file.exists():
            return False
        payload = self.doc.autosave_payload()
        payload["pid"] = os.getpid()
        payload["saved_at"] = time.time()
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomic(self.file, json.dumps(payload))
        self._saved_index = index
        return True

    def discard(self) -> None:
        self._saved_index = None
        self.file.unlink(missing_ok=True)


def leftovers(directory: Path | None = None) -> list[Recovery]:
    """Autosaves of sessions that are no longer running, newest first."""
    directory = directory or autosave_dir()
    found = []
    for file in directory.glob("autosave-*.json"):
        try:
            pid = int(file.stem.split("-", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid() or psutil.pid_exists(pid):
            continue  # this session's own file, or another running window's
        try:
            payload = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(payload, dict) or payload.get("format") != AUTOSAVE_FORMAT:
            continue
        found.append(
            Recovery(file, payload, float(payload.get("saved_at") or file.stat().st_mtime))
        )
    return sorted(found, key=lambda r: r.saved_at, reverse=True)
