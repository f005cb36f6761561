"""The layer palette: every registered layer type, grouped, with a filter box.

Generated from ``engine.spec.layer_types`` (a new layer type appears here by itself). Drag an
entry onto the canvas, or double-click it to append it after the selected block.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.spec.layer_types import GROUPS, LAYER_TYPES
from gui import theme
from gui.canvas.view import LAYER_MIME
from gui.icons import icon

TYPE_ROLE = Qt.ItemDataRole.UserRole


def _swatch(color: str) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(1, 1, 12, 12, 3, 3)
    p.end()
    return QIcon(pix)


class _Tree(QTreeWidget):
    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        names = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        if names:
            data.setData(LAYER_MIME, names[0].encode("utf-8"))
            data.setText(names[0])
        return data

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]


class Palette(QWidget):
    activated = Signal(str)  # a layer type the user double-clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Palette")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter layers")
        self.filter.setClearButtonEnabled(True)
        self.filter.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.filter)
        self.no_match = QLabel()
        self.no_match.setObjectName("Subtle")
        self.no_match.setWordWrap(True)
        self.no_match.hide()
        layout.addWidget(self.no_match)
        layout.addWidget(self.tree)
        self._groups: dict[str, QTreeWidgetItem] = {}
        for group in GROUPS:
            head = QTreeWidgetItem([group])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setForeground(0, QColor(theme.TEXT_SUBTLE))
            self.tree.addTopLevelItem(head)
            self._groups[group] = head
            for lt in LAYER_TYPES.values():
                if lt.group != group:
                    continue
                item = QTreeWidgetItem([lt.name])
                item.setData(0, TYPE_ROLE, lt.name)
                item.setIcon(0, _swatch(theme.GROUP_COLORS.get(group, theme.EDGE)))
                item.setToolTip(
                    0,
                    f"<b>{lt.name}</b><br>{lt.doc}<br><i>Drag onto the canvas or double-click.</i>",
                )
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                head.addChild(item)
        self.tree.expandAll()
        self.filter.textChanged.connect(self.apply_filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for group, head in self._groups.items():
            shown = 0
            for child in self._children(head):
                name = child.data(0, TYPE_ROLE)
                match = (
                    not needle
                    or needle in name.lower()
                    or needle in group.lower()
                    or needle in LAYER_TYPES[name].doc.lower()
                )
                child.setHidden(not match)
                shown += match
            head.setHidden(shown == 0)
        nothing = not self.visible_types()
        self.no_match.setText(
            f"No matching layer for “{text.strip()}”. Clear the filter to see all layers."
            if nothing
            else ""
        )
        self.no_match.setVisible(nothing)

    def visible_types(self) -> list[str]:
        out = []
        for head in self._groups.values():
            if head.isHidden():
                continue
            out += [c.data(0, TYPE_ROLE) for c in self._children(head) if not c.isHidden()]
        return out

    @staticmethod
    def _children(head: QTreeWidgetItem) -> list[QTreeWidgetItem]:
        """A group's layer entries (QTreeWidgetItem.child is typed optional; they are there)."""
        return [c for c in (head.child(i) for i in range(head.childCount())) if c is not None]

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        name = item.data(0, TYPE_ROLE)
        if name:
            self.activated.emit(name)
