"""One block on the canvas: a layer (or the model's Input) with its ports and live figures.

The block paints itself from a small tuple of strings set by the scene; it keeps no model
state, so undo/redo and re-inference only ever call ``set_content``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gui import theme
from gui.layout import BLOCK_W

HEADER_H = 26.0
LINE_H = 18.0
BLOCK_H = HEADER_H + 3 * LINE_H + 10.0
PORT_R = 6.0


@dataclass(frozen=True)
class BlockContent:
    """Everything a block shows; equal content means nothing to repaint."""

    title: str
    lid: str
    color: str
    lines: tuple[str, str, str]
    error: str | None = None
    waiting: bool = False
    is_output: bool = False
    multi_input: bool = False
    has_input: bool = True


class PortItem(QGraphicsPathItem):
    """An input (top) or output (bottom) port; dragging from one draws a connection. A merge
    block's input port is a wider pill, since it takes several connections."""

    def __init__(self, block: BlockItem, kind: str) -> None:
        super().__init__(block)
        self.block, self.kind = block, kind
        self.set_width(2 * PORT_R)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._paint(False)
        self.setToolTip(
            "Drag to another block to connect" if kind == "out" else "Drop a connection here"
        )

    def _paint(self, hover: bool) -> None:
        c = QColor(theme.PORT_HOVER if hover else theme.PORT)
        self.setBrush(QBrush(QColor("#FFFFFF") if not hover else c.lighter(170)))
        self.setPen(QPen(c, 2.0))

    def hoverEnterEvent(self, event) -> None:
        self._paint(True)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self._paint(False)
        super().hoverLeaveEvent(event)

    def set_width(self, width: float) -> None:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-width / 2, -PORT_R, width, 2 * PORT_R), PORT_R, PORT_R)
        self.setPath(path)


class BlockItem(QGraphicsItem):
    def __init__(self, lid: str) -> None:
        super().__init__()
        self.lid = lid
        self.content: BlockContent | None = None
        # (colour, tooltip lines) from Run > Compare Layers; None: not compared
        self.divergence: tuple[str, str] | None = None
        self._tip = ""
        self.edges: list = []  # EdgeItems attached (the scene keeps this list)
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setZValue(1.0)
        self.in_port = PortItem(self, "in")
        self.in_port.setPos(BLOCK_W / 2, 0.0)
        self.out_port = PortItem(self, "out")
        self.out_port.setPos(BLOCK_W / 2, BLOCK_H)

    # ---- geometry -----------------------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        return QRectF(-3.0, -3.0, BLOCK_W + 6.0, BLOCK_H + 22.0)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, BLOCK_W, BLOCK_H), 7, 7)
        return path

    def in_point(self, slot: int = 0, count: int = 1) -> QPointF:
        spread = 22.0 if count > 1 else 0.0
        return self.mapToScene(QPointF(BLOCK_W / 2 + (slot - (count - 1) / 2) * spread, 0.0))

    def out_point(self) -> QPointF:
        return self.mapToScene(QPointF(BLOCK_W / 2, BLOCK_H))

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)

    # ---- content ------------------------------------------------------------------------------

    def set_content(self, content: BlockContent) -> None:
        if content == self.content:
            return
        self.content = content
        self.in_port.setVisible(content.has_input)
        self.in_port.set_width(44.0 if content.multi_input else 2 * PORT_R)
        tip = [f"<b>{content.title}</b> &nbsp;<i>{content.lid}</i>", *content.lines]
        if content.error:
            tip.append(f"<span style='color:#FF8A80'>{_escape(content.error)}</span>")
        self._tip = "<br>".join(tip)
        self._show_tip()
        self.update()

    def set_divergence(self, divergence: tuple[str, str] | None) -> None:
        """Tint the block by how far two columns part at this layer (gui.run.layer_compare):
        (colour, the figures and cause as tooltip HTML), or None to clear."""
        if divergence == self.divergence:
            return
        self.divergence = divergence
        self._show_tip()
        self.update()

    def _show_tip(self) -> None:
        extra = f"<hr>{self.divergence[1]}" if self.divergence else ""
        self.setToolTip(self._tip + extra)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        c = self.content
        if c is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = QRectF(0, 0, BLOCK_W, BLOCK_H)
        selected = self.isSelected()
        bg = QColor(theme.ERROR_BG if c.error else theme.BLOCK_BG)
        if selected:
            border = QPen(QColor(theme.SELECTED), 2.4)
        elif c.error:
            border = QPen(
                QColor(theme.ERROR),
                2.0,
                Qt.PenStyle.DashLine if c.waiting else Qt.PenStyle.SolidLine,
            )
        else:
            border = QPen(QColor(theme.BLOCK_BORDER), 1.0)
        path = QPainterPath()
        path.addRoundedRect(body, 7, 7)
        painter.fillPath(path, bg)
        # Header band in the group's colour (red when the block is broken).
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, BLOCK_W, HEADER_H + 7), 7, 7)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, BLOCK_W, HEADER_H))
        painter.fillPath(
            header.intersected(clip), QColor(theme.ERROR if c.error and not c.waiting else c.color)
        )
        painter.setPen(border)
        painter.drawPath(path)
        if self.divergence is not None:  # a thick outline in the comparison's colour
            ring = QPainterPath()
            ring.addRoundedRect(body.adjusted(-2.5, -2.5, 2.5, 2.5), 9, 9)
            painter.setPen(QPen(QColor(self.divergence[0]), 4.0))
            painter.drawPath(ring)

        font = painter.font()
        title_font = QFont(font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(QColor("#FFFFFF"))
        painter.drawText(
            QRectF(10, 0, BLOCK_W - 20, HEADER_H),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            c.title,
        )
        title_w = QFontMetricsF(title_font).horizontalAdvance(c.title)
        painter.setFont(font)
        id_rect = QRectF(20 + title_w, 0, BLOCK_W - 30 - title_w, HEADER_H)
        shown_id = QFontMetricsF(font).elidedText(
            c.lid, Qt.TextElideMode.ElideMiddle, id_rect.width()
        )
        painter.setPen(QColor(255, 255, 255, 215))
        painter.drawText(
            id_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, shown_id
        )

        fm = QFontMetricsF(font)
        y = HEADER_H + 5
        for i, line in enumerate(c.lines):
            painter.setPen(QColor(theme.TEXT if i == 1 else theme.TEXT_SUBTLE))
            if i == 1 and c.error:
                painter.setPen(QColor(theme.ERROR))
            text = fm.elidedText(line, Qt.TextElideMode.ElideRight, BLOCK_W - 20)
            painter.drawText(
                QRectF(10, y, BLOCK_W - 20, LINE_H),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                text,
            )
            y += LINE_H
        if c.is_output:
            tag = "model output"
            w = fm.horizontalAdvance(tag) + 14
            rect = QRectF(BLOCK_W / 2 + PORT_R + 6, BLOCK_H + 2, w, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.SELECTED))
            painter.drawRoundedRect(rect, 8, 8)
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, tag)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
