"""The look of the app in one place: Fusion style, the light palette, the style sheet, and the
colours the canvas paints with (the canvas draws itself, so the style sheet cannot reach it)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from engine.resources import resource_dir

# Header colour of a block, by registry group (engine.spec.layer_types.GROUPS).
GROUP_COLORS: dict[str, str] = {
    "Core": "#3F7CC0",
    "Convolution": "#E07B24",
    "Pooling": "#3E9A4B",
    "Recurrent": "#9B5FA8",
    "Normalization": "#2A9D9A",
    "Merge": "#8D6E63",
    "Activation": "#B8860B",
    "Input": "#546E7A",
}

CANVAS_BG = "#F4F6F8"
CANVAS_GRID = "#E4E9EE"
BLOCK_BG = "#FFFFFF"
BLOCK_BORDER = "#B0BEC5"
SELECTED = "#1E88E5"
TEXT = "#263238"
TEXT_SUBTLE = "#607D8B"
ERROR = "#D32F2F"
ERROR_BG = "#FDECEA"
EDGE = "#78909C"
EDGE_LABEL_BG = "#FFFFFF"
PORT = "#546E7A"
PORT_HOVER = "#1E88E5"


def color(name: str) -> QColor:
    return QColor(name)


def style_sheet() -> str:
    assets = resource_dir("assets")
    path = assets / "twintrain.qss"
    if not path.is_file():
        return ""
    return path.read_text(encoding="utf-8").replace("@ASSETS@", assets.as_posix())


def apply(app: QApplication) -> None:
    """Fusion looks the same on every desktop; a light palette under it keeps dialogs in tone."""
    app.setStyle("Fusion")
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#F4F6F8"))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.Base, QColor("#FFFFFF"))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#F4F7FA"))
    pal.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.Button, QColor("#FFFFFF"))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(SELECTED))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#FFFFFF"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor("#263238"))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor("#ECEFF1"))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor("#90A4AE"))
    app.setPalette(pal)
    app.setStyleSheet(style_sheet())
