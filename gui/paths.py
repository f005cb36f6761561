"""Where the app keeps its own files (autosaves, recent files).

``TWINTRAIN_DATA_DIR`` overrides the platform's user data folder, so tests and portable
installs never touch the real one.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "TwinTrain"


def data_dir() -> Path:
    override = os.environ.get("TWINTRAIN_DATA_DIR")
    base = (
        Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    )
    base.mkdir(parents=True, exist_ok=True)
    return base


def autosave_dir() -> Path:
    path = data_dir() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_file() -> Path:
    return data_dir() / "settings.ini"
