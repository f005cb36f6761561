"""SVG icons from assets/, loaded once each (Qt renders them sharp at any scaling)."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from engine.resources import resource_dir


@cache
def icon(name: str) -> QIcon:
    """The toolbar icon ``assets/icons/<name>.svg`` (an empty icon if it is missing)."""
    path = resource_dir("assets") / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


@cache
def app_icon() -> QIcon:
    return QIcon(str(resource_dir("assets") / "twintrain.svg"))
