"""Where bundled files (presets, assets) live, frozen (PyInstaller) or not."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_dir(name: str) -> Path:
    """The folder of bundled resource ``name`` ('presets' or 'assets')."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / name
    return Path(__file__).resolve().parent.parent / name


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))
