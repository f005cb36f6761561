"""The canvas scene: mirrors the document as blocks and edges, and turns mouse gestures into
document edits (connect by dragging between ports, move by dragging blocks).

``sync`` diffs the document against the items by id, so undo, redo and re-inference cost
only the items whose content changed.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from engine.spec.layer_types import LAYER_TYPES
from engine.spec.project import INPUT_ID
from gui import theme
from gui.canvas.block_item import BlockContent, BlockItem, PortItem
from gui.canvas.edge_item import EdgeItem, connection_path
from gui.document import Document
from gui.formatting import count_text, key_params_text, shape_text


class CanvasScene(QGraphicsScene):
    message = Signal(str)  # a short note for the status bar (e.g. why a connection was refused)

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.blocks: dict[str, BlockItem] = {}
        self.edges: dict[tuple[str, str, int], EdgeItem] = {}
        self._drag_port: PortItem | None = None
        self._drag_line: QGraphicsPathItem | None = None
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        doc.changed.connect(self.sync)
        self.sync()

    # ---- selection helpers ----------------------------------------------------------------

    def show_divergence(self, tints: dict[str, tuple[str, str]]) -> None:
        """Tint each block named in ``tints`` (layer id -> (colour, tooltip HTML)); the others,
        and all of them with an empty dict, lose any tint."""
        for lid, item in self.blocks.items():
            item.set_divergence(tints.get(lid))

    def selected_ids(self) -> list[str]:
        return [item.lid for item in self.selectedItems() if isinstance(item, BlockItem)]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [(e.src.lid, e.dst.lid) for e in self.selectedItems() if isinstance(e, EdgeItem)]

    def select_only(self, ids: list[str]) -> None:
        self.clearSelection()
        for lid in ids:
            if lid in self.blocks:
                self.blocks[lid].setSelected(True)

    # ---- mirroring the document -----------------------------------------------------------

    def sync(self) -> None:
        doc, analysis = self.doc, self.doc.analysis
        ids = [INPUT_ID, *(layer.id for layer in doc.layers)]
        for lid in [lid for lid in self.blocks if lid not in set(ids)]:
            gone = self.blocks.pop(lid)
            for edge in list(gone.edges):
                self._drop_edge(edge.key)
            self.removeItem(gone)
        for lid in ids:
            item = self.blocks.get(lid)
            if item is None:
                item = BlockItem(lid)
                self.blocks[lid] = item
                self.addItem(item)
            item.set_content(self._content(lid))
            x, y = doc.position(lid)
            if item.pos() != QPointF(x, y):
                item.setPos(x, y)
        wanted: dict[tuple[str, str, int], int] = {}
        for layer in doc.layers:
            refs = layer.inputs or []
            for slot, ref in enumerate(refs):
                if ref in self.blocks:
                    wanted[(ref, layer.id, slot)] = len(refs)
        for key in [k for k in self.edges if k not in wanted]:
            self._drop_edge(key)
        for key, count in wanted.items():
            edge = self.edges.get(key)
            if edge is None:
                edge = EdgeItem(self.blocks[key[0]], self.blocks[key[1]], key[2], count)
                self.edges[key] = edge
                self.blocks[key[0]].edges.append(edge)
                self.blocks[key[1]].edges.append(edge)
                self.addItem(edge)
            edge.set_label(_edge_label(analysis.shape_of(key[0], doc.project.input_shape)), count)
        bounds = self.itemsBoundingRect().adjusted(-2000, -2000, 2000, 2000)
        self.setSceneRect(
            bounds.united(self.sceneRect()) if not self.sceneRect().isEmpty() else bounds
        )

    def _drop_edge(self, key: tuple[str, str, int]) -> None:
        edge = self.edges.pop(key, None)
        if edge is None:
            return
        for block in (edge.src, edge.dst):
            if edge in block.edges:
                block.edges.remove(edge)
        self.removeItem(edge)

    def _content(self, lid: str) -> BlockContent:
        doc, analysis = self.doc, self.doc.analysis
        if lid == INPUT_ID:
            shape_errors = analysis.field_errors("model.input.shape")
            ds = analysis.dataset
            dataset = doc.project.training.get("dataset", {}).get("name", "?")
            data_line = f"{dataset}: {ds.n_samples:,} samples" if ds else f"dataset {dataset}"
            return BlockContent(
                "Input",
                "input",
                theme.GROUP_COLORS["Input"],
                ("per sample, channels last", shape_text(doc.project.input_shape), data_line),
                error=shape_errors[0].reason if shape_errors else None,
                has_input=False,
            )
        layer = doc.layer(lid)
        lt = LAYER_TYPES[layer.type]
        info = analysis.blocks.get(lid)
        try:
            params_line = key_params_text(lt, layer.resolved(), len(layer.inputs or []))
        except (KeyError, TypeError):  # a required parameter not set yet
            params_line = ""
        if info is None:
            return BlockContent(
                layer.type, lid, theme.GROUP_COLORS.get(lt.group, theme.EDGE), (params_line, "", "")
            )
        if info.error:
            shape_line = info.error
            counts = ""
        else:
            shape_line = "→ " + shape_text(info.output_shape)
            counts = f"{count_text(info.params)} params"
            if info.torch_params != info.params:
                counts += f" (PyTorch {count_text(info.torch_params)})"
            counts += f" · {count_text(info.macs)} MACs"
        return BlockContent(
            layer.type,
            lid,
            theme.GROUP_COLORS.get(lt.group, theme.EDGE),
            (params_line, shape_line, counts),
            error=info.error,
            waiting=info.waiting,
            is_output=lid == analysis.output_id,
            multi_input=lt.max_inputs > 1,
        )

    # ---- gestures ---------------------------------------------------------------------------

    def _port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem) and item.isVisible():
                return item
        return None

    def _block_at(self, pos: QPointF) -> BlockItem | None:
        for item in self.items(pos):
            if isinstance(item, BlockItem):
                return item
            if isinstance(item, PortItem):
                return item.block
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            port = self._port_at(event.scenePos())
            if port is not None:
                self._drag_port = port
                self._drag_line = QGraphicsPathItem()
                pen = QPen(QColor(theme.SELECTED), 2.0, Qt.PenStyle.DashLine)
                self._drag_line.setPen(pen)
                self._drag_line.setZValue(5)
                self.addItem(self._drag_line)
                self._update_drag(event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_port is not None:
            self._update_drag(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_port is not None:
            port, self._drag_port = self._drag_port, None
            if self._drag_line is not None:
                self.removeItem(self._drag_line)
            self._drag_line = None
            target = self._block_at(event.scenePos())
            if target is not None and target is not port.block:
                src, dst = (
                    (port.block.lid, target.lid)
                    if port.kind == "out"
                    else (target.lid, port.block.lid)
                )
                self.connect_blocks(src, dst)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def _update_drag(self, pos: QPointF) -> None:
        port, line = self._drag_port, self._drag_line
        if port is None or line is None:  # no connection is being dragged
            return
        anchor = port.block.out_point() if port.kind == "out" else port.block.in_point()
        a, b = (anchor, pos) if port.kind == "out" else (pos, anchor)
        line.setPath(connection_path(a, b))

    def connect_blocks(self, src: str, dst: str) -> bool:
        why = self.doc.connect(src, dst)
        if why:
            self.message.emit(f"Cannot connect: {why}")
            return False
        return True

    def commit_moves(self) -> None:
        """Record blocks the user dragged as one undoable move."""
        moved = {
            lid: (item.pos().x(), item.pos().y())
            for lid, item in self.blocks.items()
            if (item.pos().x(), item.pos().y()) != self.doc.position(lid)
        }
        if moved:
            self.doc.move(moved)

    # ---- background -------------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        painter.fillRect(rect, QColor(theme.CANVAS_BG))
        step = 24.0
        left, top = int(rect.left() // step) * step, int(rect.top() // step) * step
        painter.setPen(QPen(QColor(theme.CANVAS_GRID), 0))
        x = left
        lines = []
        while x < rect.right():
            lines.append((QPointF(x, rect.top()), QPointF(x, rect.bottom())))
            x += step
        y = top
        while y < rect.bottom():
            lines.append((QPointF(rect.left(), y), QPointF(rect.right(), y)))
            y += step
        if len(lines) < 800:  # zoomed far out the grid is noise
            for a, b in lines:
                painter.drawLine(a, b)


def _edge_label(shape) -> str:
    return shape_text(shape) if shape is not None else ""
