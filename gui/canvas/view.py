"""The canvas view: zoom (wheel, keys), pan (middle button), rubber-band selection, and drops
from the palette."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from gui import theme
from gui.canvas.scene import CanvasScene

LAYER_MIME = "application/x-twintrain-layer"
MIN_ZOOM, MAX_ZOOM = 0.15, 3.0
READABLE_ZOOM = 0.85
HINT_TEXT = (
    "Drag layers here from the palette (or double-click one),\n"
    "then connect output ports to input ports."
)
HINT_GAP = 40.0  # between the Input block and the hint below it


class CanvasView(QGraphicsView):
    layer_dropped = Signal(str, QPointF)  # layer type, scene position (top-left of the block)

    def __init__(self, scene: CanvasScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("Canvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.canvas = scene  # self.scene(), with its type: the editor's scene
        self._pan_from: QPointF | None = None
        self._had_layers = bool(scene.doc.layers)
        scene.doc.changed.connect(self._repaint_hint)

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        f = target / self.zoom
        self.scale(f, f)

    def zoom_in(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.set_zoom(1.25)
        self.setTransformationAnchor(anchor)

    def zoom_out(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.set_zoom(1 / 1.25)
        self.setTransformationAnchor(anchor)

    def zoom_fit(self, readable: bool = False) -> None:
        """Fit the network in the view. ``readable`` (used on open) never zooms out past the
        point where block text gets small; a tall network then shows its top part."""
        scene = self.canvas
        rect = QRectF()
        for item in scene.blocks.values():
            rect = rect.united(item.sceneBoundingRect())
        for edge in scene.edges.values():
            rect = rect.united(edge.sceneBoundingRect())
        hint = self.hint_rect()
        if hint is not None:
            rect = rect.united(hint)
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.0:  # small networks stay at natural size, centred
            self.set_zoom(1.0 / self.zoom)
            self.centerOn(rect.center())
        elif readable and self.zoom < READABLE_ZOOM:
            self.set_zoom(READABLE_ZOOM / self.zoom)
            top = rect.adjusted(-40, -40, 40, 40)
            self.centerOn(top.center().x(), top.top() + self.viewport().height() / (2 * self.zoom))
        elif self.zoom < MIN_ZOOM:
            self.set_zoom(MIN_ZOOM / self.zoom)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.set_zoom(1.0015**delta)
        event.accept()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ---- drops from the palette ---------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            type_name = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
            self.layer_dropped.emit(type_name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    # ---- the hint on an empty canvas ----------------------------------------------------------

    def _hint_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        return font

    def hint_rect(self) -> QRectF | None:
        """Where the empty-canvas hint is drawn (scene coordinates): centred below the blocks,
        so it never covers one; None once the network has a layer."""
        scene = self.canvas
        if scene.doc.layers:
            return None
        blocks = QRectF()
        for item in scene.blocks.values():
            blocks = blocks.united(item.sceneBoundingRect())
        metrics = QFontMetricsF(self._hint_font())
        lines = HINT_TEXT.split("\n")
        width = max(metrics.horizontalAdvance(line) for line in lines) + 8.0
        height = metrics.lineSpacing() * len(lines) + 4.0
        centre_x = blocks.center().x() if not blocks.isEmpty() else 0.0
        top = blocks.bottom() + HINT_GAP if not blocks.isEmpty() else 0.0
        return QRectF(centre_x - width / 2, top, width, height)

    def _repaint_hint(self) -> None:
        has = bool(self.canvas.doc.layers)
        if has != self._had_layers or not has:
            self.viewport().update()
        self._had_layers = has

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        area = self.hint_rect()
        if area is None or not area.intersects(QRectF(rect)):
            return
        painter.save()
        painter.setPen(QColor(theme.TEXT_SUBTLE))
        painter.setFont(self._hint_font())
        painter.drawText(area, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, HINT_TEXT)
        painter.restore()
