"""Where bundled files (presets, assets) live, frozen (PyInstaller) or not."""

from __future__ import annotations

import sys
from pathlib import Path


def app_root() -> Path:
    """The folder that holds TwinTrain itself: the frozen bundle's, else the one above
    ``engine``."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    return Path(frozen_root) if frozen_root else Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """The folder of bundled resource ``name`` ('presets' or 'assets')."""
    return app_root() / name


def is_frozen() -> bool:
    """Running as the PyInstaller bundle: TwinTrain's one frozen check (also re-exported by
    engine.child_process), so every part decides it the same way."""
    return bool(getattr(sys, "frozen", False))
