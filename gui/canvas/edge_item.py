"""A connection from one block's output to another's input, labelled with the shape it carries."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gui import theme
from gui.canvas.block_item import BlockItem
from gui.layout import BLOCK_W, ROW_PITCH


def connection_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A vertical S-curve from a (output, above) to b (input, below)."""
    path = QPainterPath(a)
    dy = max(abs(b.y() - a.y()) * 0.5, 40.0)
    path.cubicTo(QPointF(a.x(), a.y() + dy), QPointF(b.x(), b.y() - dy), b)
    return path


def detour_path(a: QPointF, b: QPointF, side_x: float) -> QPainterPath:
    """Out of a, over to side_x in the gap below a's block, down, and back into b: for edges
    that skip rows, which would otherwise run through the blocks in between."""
    turn = 28.0
    path = QPainterPath(a)
    path.cubicTo(
        QPointF(a.x(), a.y() + turn), QPointF(side_x, a.y() + 4), QPointF(side_x, a.y() + turn + 6)
    )
    path.lineTo(QPointF(side_x, b.y() - turn - 6))
    path.cubicTo(QPointF(side_x, b.y() - 4), QPointF(b.x(), b.y() - turn), b)
    return path


class EdgeItem(QGraphicsPathItem):
    def __init__(self, src: BlockItem, dst: BlockItem, slot: int, count: int) -> None:
        super().__init__()
        self.src, self.dst, self.slot, self.count = src, dst, slot, count
        self.label = ""
        self._label_rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0.0)
        self.setAcceptHoverEvents(True)
        self.update_path()

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.src.lid, self.dst.lid, self.slot)

    def set_label(self, label: str, count: int) -> None:
        if label == self.label and count == self.count:
            return
        self.label, self.count = label, count
        self.setToolTip(f"{self.src.lid} → {self.dst.lid}: {label or 'no shape yet'}")
        self.update_path()

    def update_path(self) -> None:
        a, b = self.src.out_point(), self.dst.in_point(self.slot, self.count)
        if b.y() - a.y() > ROW_PITCH * 1.5 and abs(b.x() - a.x()) < BLOCK_W * 0.6:
            path = detour_path(a, b, max(a.x(), b.x()) + BLOCK_W / 2 + 24)
        else:
            path = connection_path(a, b)
        self.prepareGeometryChange()
        self.setPath(path)
        mid = path.pointAtPercent(0.5)
        if self.label:
            fm = QFontMetricsF(QApplication.font())
            width, height = fm.horizontalAdvance(self.label) + 12, fm.height() + 2
            self._label_rect = QRectF(mid.x() - width / 2, mid.y() - height / 2, width, height)
        else:
            self._label_rect = QRectF()

    def boundingRect(self) -> QRectF:
        return (
            super()
            .boundingRect()
            .adjusted(-4, -4, 4, 4)
            .united(self._label_rect.adjusted(-2, -2, 2, 2))
        )

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12.0)
        return stroker.createStroke(self.path())

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        pen = QPen(QColor(theme.SELECTED if selected else theme.EDGE), 2.6 if selected else 1.8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        if self.label:
            rect = self._label_rect
            painter.setPen(QPen(QColor(theme.SELECTED if selected else "#CFD8DC"), 1.0))
            painter.setBrush(QColor(theme.EDGE_LABEL_BG))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(QColor(theme.TEXT_SUBTLE if not selected else theme.SELECTED))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)
