"""The main window: palette (left), canvas (centre), inspector (right), menus, toolbar, status.

It wires views to one Document and owns the file actions (new, open, save, recent, recovery).
Dialogs go through ``ask``/``tell`` so that tests can answer them.
"""

from __future__ import annotations

import atexit
import functools
import json
import subprocess
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.presets import SUFFIX, list_presets, preset_path
from engine.spec.errors import SpecError
from engine.spec.project import INPUT_ID, read_project
from gui import folders, system_info
from gui.autosave import Autosaver, leftovers
from gui.canvas.scene import CanvasScene
from gui.canvas.view import CanvasView
from gui.document import Document, new_project
from gui.formatting import count_text, shape_text
from gui.help import HelpUi, about_box
from gui.icons import app_icon, icon
from gui.inspector import Inspector
from gui.layout import BLOCK_W, ROW_PITCH
from gui.messages import Kind, message_box
from gui.palette import Palette
from gui.recent import RecentFiles
from gui.run.training_ui import TrainingUi
from gui.tasks import Task, run_in_background

BLOCKS_MIME = "application/x-twintrain-blocks"
GPU_PROBE_S = 10  # nvidia-smi -L answers in about a second; a stuck driver gets this long
FILE_FILTER = f"TwinTrain projects (*{SUFFIX});;JSON (*.json);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.doc = Document(self)
        self.scene = CanvasScene(self.doc, self)
        self.view = CanvasView(self.scene)
        self.layers_panel = Palette()
        self.inspector = Inspector(self.doc)
        self.recent = RecentFiles()
        self.autosaver = Autosaver(self.doc)
        self._gpu_probe: Task | None = None
        self.gpus: list[str] = []

        central = QWidget()
        box = QVBoxLayout(central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.view, 1)
        self.summary = QLabel()
        self.summary.setObjectName("Summary")
        self.summary.setWordWrap(True)
        bar = QWidget()
        bar.setObjectName("SummaryBar")
        bar_box = QVBoxLayout(bar)
        bar_box.setContentsMargins(0, 0, 0, 0)
        bar_box.addWidget(self.summary)
        box.addWidget(bar)
        self.setCentralWidget(central)
        self._dock(self.layers_panel, "Layers", Qt.DockWidgetArea.LeftDockWidgetArea, 190)
        self._dock(self.inspector, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea, 320)

        self._make_actions()
        self._make_menus_and_toolbar()
        self._make_status_bar()

        self.doc.changed.connect(self._doc_changed)
        self.doc.reset.connect(self._doc_reset)
        self.doc.modified_changed.connect(lambda _m: self._update_title())
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.view.layer_dropped.connect(self._drop_layer)
        self.layers_panel.activated.connect(self.append_layer)
        self.inspector.rename_done.connect(lambda lid: self.scene.select_only([lid]))
        self.doc.undo_stack.canUndoChanged.connect(self.act_undo.setEnabled)
        self.doc.undo_stack.canRedoChanged.connect(self.act_redo.setEnabled)
        self.doc.bind_undo_actions(self.act_undo, self.act_redo)  # "Undo Add Dense"
        self._doc_changed()
        self._update_title()
        self.inspector.refresh()
        self.training = TrainingUi(self)
        self.help = HelpUi(self)

    # ---- construction -------------------------------------------------------------------------

    def _dock(
        self, widget: QWidget, title: str, area: Qt.DockWidgetArea, width: int
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        return dock

    def _action(
        self, text: str, slot, shortcut=None, icon_name: str | None = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
        label = text.replace("&", "").rstrip(".…")
        first = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or label} ({first})" if first else (tip or label))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        S = QKeySequence.StandardKey
        self.act_new = self._action("&New", self.new_project, S.New, "new")
        self.act_open = self._action("&Open…", self.open_dialog, S.Open, "open")
        self.act_save = self._action("&Save", self.save, S.Save, "save")
        self.act_save_as = self._action("Save &As…", self.save_as, S.SaveAs, "save-as")
        self.act_quit = self._action("&Quit", self.close, S.Quit)
        self.act_undo = self._action("&Undo", self.doc.undo_stack.undo, S.Undo, "undo")
        self.act_redo = self._action(
            "&Redo", self.doc.undo_stack.redo, [QKeySequence(S.Redo), "Ctrl+Y"], "redo"
        )
        self.act_undo.setEnabled(False)
        self.act_redo.setEnabled(False)
        self.act_cut = self._action("Cu&t", self.cut, S.Cut, "cut")
        self.act_copy = self._action("&Copy", self.copy, S.Copy, "copy")
        self.act_paste = self._action("&Paste", self.paste, S.Paste, "paste")
        self.act_delete = self._action(
            "&Delete", self.delete_selection, [QKeySequence(S.Delete), "Backspace"], "delete"
        )
        self.act_select_all = self._action(
            "Select &All", self.select_all, S.SelectAll, "select-all"
        )
        self.act_zoom_in = self._action(
            "Zoom &In", self.view.zoom_in, [QKeySequence(S.ZoomIn), "Ctrl+="], "zoom-in"
        )
        self.act_zoom_out = self._action("Zoom &Out", self.view.zoom_out, S.ZoomOut, "zoom-out")
        self.act_fit = self._action("&Fit to Window", self.view.zoom_fit, "Ctrl+0", "zoom-fit")
        self.act_arrange = self._action(
            "Auto-&arrange", self.arrange, "Ctrl+L", "arrange", "Auto-arrange top to bottom"
        )
        self.act_about = self._action("&About TwinTrain", self.about)
        for act in (
            self.act_delete,
            self.act_select_all,
            self.act_cut,
            self.act_copy,
            self.act_paste,
        ):
            # Text fields keep their own Delete/Ctrl+A/copy/paste; the canvas gets them elsewhere.
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(act)

    def _make_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_new)
        file_menu.addAction(self.act_open)
        self.preset_menu = file_menu.addMenu(icon("preset"), "Open &Preset")
        self.preset_menu.aboutToShow.connect(self._fill_preset_menu)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_as)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = bar.addMenu("&Edit")
        for act in (
            self.act_undo,
            self.act_redo,
            None,
            self.act_cut,
            self.act_copy,
            self.act_paste,
            self.act_delete,
            None,
            self.act_select_all,
        ):
            edit.addSeparator() if act is None else edit.addAction(act)
        view = bar.addMenu("&View")
        for act in (self.act_zoom_in, self.act_zoom_out, self.act_fit, None, self.act_arrange):
            view.addSeparator() if act is None else view.addAction(act)
        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(self.act_about)

        tools = QToolBar("Main")
        tools.setObjectName("MainToolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tools.addAction(self.act_new)
        tools.addAction(self.act_open)
        preset_button = QToolButton()
        preset_button.setIcon(icon("preset"))
        preset_button.setToolTip("Open a preset")
        preset_button.setMenu(self.preset_menu)
        preset_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        tools.addWidget(preset_button)
        tools.addAction(self.act_save)
        tools.addAction(self.act_save_as)
        tools.addSeparator()
        for act in (
            self.act_undo,
            self.act_redo,
            None,
            self.act_cut,
            self.act_copy,
            self.act_paste,
            self.act_delete,
            None,
            self.act_zoom_in,
            self.act_zoom_out,
            self.act_fit,
            self.act_arrange,
        ):
            tools.addSeparator() if act is None else tools.addAction(act)
        self.addToolBar(tools)

    def _make_status_bar(self) -> None:
        status = self.statusBar()
        self.versions_label = QLabel(system_info.versions_text())
        self.versions_label.setToolTip(
            "Read from package metadata; the frameworks load only in worker processes."
        )
        self.devices_label = QLabel(self._devices_text([]))
        status.addPermanentWidget(self.versions_label)
        status.addPermanentWidget(self.devices_label)

    def _devices_text(self, gpus: list[str]) -> str:
        cpu = f"CPU: {system_info.cpu_cores()} cores"
        if gpus:
            return f"{cpu} · GPU: {', '.join(gpus)}"
        if system_info.nvidia_smi() and self._gpu_probe is not None:
            return f"{cpu} · GPU: looking…"
        return f"{cpu} · GPU: none found"

    def probe_gpus(self) -> None:
        """Ask nvidia-smi for GPUs in the background (it can take a second; never block
        start-up)."""
        exe = system_info.nvidia_smi()
        if not exe:
            return

        def probe(_task: Task) -> str:
            done = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=GPU_PROBE_S)
            return done.stdout

        self._gpu_probe = run_in_background(
            probe,
            on_result=self._gpus_found,
            on_error=lambda _exc, _tb: self._gpus_found(""),  # no answer: no GPU to offer
            parent=self,
            name="gpu-probe",
        )
        self.devices_label.setText(self._devices_text([]))

    def _gpus_found(self, text: str) -> None:
        self._gpu_probe = None
        gpus = system_info.parse_gpu_list(text)
        self.gpus = gpus  # for Help > Report a Problem
        self.devices_label.setText(self._devices_text(gpus))
        self.training.dashboard.set_gpus(gpus)

    # ---- reacting to the document -------------------------------------------------------------

    def _doc_changed(self) -> None:
        self._update_summary()

    def _doc_reset(self) -> None:
        self.scene.clearSelection()
        self.inspector.show_selection([], [])
        QTimer.singleShot(0, lambda: self.view.zoom_fit(readable=True))

    def _selection_changed(self) -> None:
        self.inspector.show_selection(self.scene.selected_ids(), self.scene.selected_edges())

    def _update_title(self) -> None:
        name = self.doc.path.name if self.doc.path else f"{self.doc.project.name} (not saved)"
        self.setWindowTitle(f"{name}[*] — TwinTrain")
        self.setWindowModified(self.doc.is_modified)

    def _update_summary(self) -> None:
        a, doc = self.doc.analysis, self.doc
        if not doc.layers:
            self.summary.setText("Empty network: drag a layer from the palette onto the canvas.")
            self.summary.setProperty("error", False)
        else:
            parts = [f"{len(doc.layers)} layers", f"<b>{a.params:,}</b> parameters"]
            diffs = a.differences()
            if diffs:
                parts[-1] = (
                    f"<b>{a.params:,}</b> parameters in Keras, <b>{a.torch_params:,}</b> in PyTorch"
                )
            parts.append(f"{count_text(a.macs)} MACs per sample")
            if a.output_id and a.blocks.get(a.output_id) and a.blocks[a.output_id].output_shape:
                parts.append(f"output {shape_text(a.blocks[a.output_id].output_shape)}")
            text = " · ".join(parts)
            if diffs:
                lid, _k, _t, why = diffs[0]
                more = f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""
                text += (
                    f"<br><span style='color:#607D8B'>Counts differ at {lid}{more}: {why}.</span>"
                )
            problems = [
                f"{lid}: {b.error}" for lid, b in a.blocks.items() if b.error and not b.waiting
            ]
            problems += [e.reason for e in a.project_errors]
            if problems:
                n = len(problems)
                text += (
                    f"<br><span style='color:#C62828'>{n} problem{'s' * (n != 1)}: "
                    f"{_escape(problems[0])}</span>"
                )
            self.summary.setText(text)
        self.summary.setToolTip("")

    # ---- editing ----------------------------------------------------------------------------

    def _drop_layer(self, type_name: str, pos: QPointF) -> None:
        lid = self.doc.add_layer(type_name, (pos.x() - BLOCK_W / 2, pos.y() - 20))
        self.scene.select_only([lid])

    def append_layer(self, type_name: str) -> str:
        """Add a block below the selected one (or below the model output) and connect it."""
        selected = self.scene.selected_ids()
        after = selected[-1] if len(selected) == 1 else (self.doc.output_id or INPUT_ID)
        if after != INPUT_ID and not self.doc.has(after):
            after = INPUT_ID
        x, y = self.doc.position(after)
        lid = self.doc.add_layer(type_name, (x, y + ROW_PITCH), connect_from=after)
        self.scene.select_only([lid])
        self.view.ensureVisible(self.scene.blocks[lid].sceneBoundingRect(), 40, 40)
        return lid

    def delete_selection(self) -> None:
        self.doc.remove(self.scene.selected_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        for item in self.scene.blocks.values():
            item.setSelected(True)

    def copy(self) -> bool:
        ids = [i for i in self.scene.selected_ids() if i != INPUT_ID]
        if not ids:
            self.statusBar().showMessage("Select blocks to copy", 4000)
            return False
        data = QMimeData()
        payload = json.dumps(self.doc.copy_payload(ids))
        data.setData(BLOCKS_MIME, payload.encode("utf-8"))
        data.setText(payload)
        QGuiApplication.clipboard().setMimeData(data)
        _clear_clipboard_at_exit()
        return True

    def cut(self) -> None:
        if self.copy():
            self.doc.remove([i for i in self.scene.selected_ids() if i != INPUT_ID])

    def paste(self) -> list[str]:
        data = QGuiApplication.clipboard().mimeData()
        raw = (
            bytes(data.data(BLOCKS_MIME).data()).decode("utf-8")
            if data and data.hasFormat(BLOCKS_MIME)
            else (data.text() if data else "")
        )
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        ids = self.doc.paste(payload) if payload else []
        if not ids:
            self.statusBar().showMessage("Nothing to paste: copy some blocks first", 4000)
        self.scene.select_only(ids)
        return ids

    def arrange(self) -> None:
        self.doc.arrange()
        self.view.zoom_fit()

    # ---- files ------------------------------------------------------------------------------

    def tell(self, title: str, text: str, kind: Kind | str = Kind.ERROR) -> None:
        """Show a message: ``kind`` info, warning or error picks the box's icon."""
        message_box(self, title, text, kind).exec()

    def ask(self, title: str, text: str, buttons, default) -> QMessageBox.StandardButton:
        return QMessageBox.question(self, title, text, buttons, default)

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, discarded or unchanged)."""
        if not self.doc.is_modified:
            return True
        B = QMessageBox.StandardButton
        name = self.doc.path.name if self.doc.path else self.doc.project.name
        answer = self.ask(
            "Unsaved changes", f"Save the changes to {name}?", B.Save | B.Discard | B.Cancel, B.Save
        )
        if answer == B.Save:
            return self.save()
        return answer == B.Discard

    def new_project(self) -> None:
        if self.maybe_save():
            self.autosaver.discard()
            self.doc.load(new_project())

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(folders.start_dir(self.doc.base_dir))
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, FILE_FILTER)
        if path:
            folders.remember(path)
            self.open_path(Path(path), ask=False)

    def open_path(self, path: Path, *, ask: bool = True) -> bool:
        """Open a project file; a file that fails to load leaves the current project as it was."""
        if ask and not self.maybe_save():
            return False
        try:
            project = read_project(path)
        except SpecError as exc:
            self.tell("Cannot open project", str(exc), Kind.ERROR)
            return False
        self.autosaver.discard()
        self.doc.load(project, project.path)
        if project.path is not None:  # read from a file, so it has one
            self.recent.add(project.path)
        self.statusBar().showMessage(f"Opened {project.path}", 4000)
        return True

    def open_preset(self, key: str) -> bool:
        """Presets open as new, unsaved projects, so saving never writes into the app's files."""
        path = preset_path(key)
        if path is None or not self.maybe_save():
            return False
        try:
            project = read_project(path)
        except SpecError as exc:
            self.tell("Cannot open preset", str(exc), Kind.ERROR)
            return False
        self.autosaver.discard()
        self.doc.load(project, None)
        return True

    def _fill_preset_menu(self) -> None:
        self.preset_menu.clear()
        try:
            presets = list_presets()
        except SpecError as exc:
            self.preset_menu.addAction(f"Presets unreadable: {exc}").setEnabled(False)
            return
        for preset in presets:
            act = self.preset_menu.addAction(f"{preset.key} — {preset.description}")
            act.triggered.connect(lambda _c=False, key=preset.key: self.open_preset(key))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for path in paths:
            act = self.recent_menu.addAction(str(path))
            act.triggered.connect(lambda _c=False, p=path: self._open_recent(p))
        if not paths:
            self.recent_menu.addAction("No recent files").setEnabled(False)
            return
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list").triggered.connect(
            lambda _c=False: self.recent.clear()
        )

    def _open_recent(self, path: Path) -> None:
        if not path.exists():
            self.recent.remove(path)
            self.tell("Cannot open project", f"{path}: the file is no longer there", Kind.ERROR)
            return
        self.open_path(path)

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        start = str(
            self.doc.path
            or (folders.start_dir(self.doc.base_dir) / f"{self.doc.project.name}{SUFFIX}")
        )
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, FILE_FILTER)
        if not path:
            return False
        folders.remember(path)
        if not path.endswith(".json"):
            path += SUFFIX
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        try:
            self.doc.save(path)
        except SpecError as exc:
            self.tell("Cannot save project", f"{exc}\n\nNothing was written.", Kind.ERROR)
            return False
        except OSError as exc:
            self.tell(
                "Cannot save project",
                f"{path}: {exc.strerror or exc}\n\nNothing was written.",
                Kind.ERROR,
            )
            return False
        self.recent.add(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest autosave left behind; others are kept for later."""
        found = leftovers(self.autosaver.directory)
        if not found:
            return False
        rec = found[0]
        B = QMessageBox.StandardButton
        answer = self.ask(
            "Recover unsaved work?",
            f"TwinTrain did not close normally last time. Recover {rec.label}?",
            B.Yes | B.No,
            B.Yes,
        )
        if answer == B.Yes:
            try:
                self.doc.load_autosave(rec.payload)
            except SpecError as exc:
                self.tell("Cannot recover", str(exc), Kind.ERROR)
                return False
            self.autosaver.save_if_needed()
        rec.file.unlink(missing_ok=True)
        return answer == B.Yes

    def about(self) -> None:
        about_box(self).exec()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.training.controller.running:
            answer = self.ask(
                "A run is going",
                "Stop the run and close TwinTrain? What was measured so far is kept "
                "in its run folder.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        if self.maybe_save():
            self.training.shutdown()
            self.autosaver.discard()
            event.accept()
        else:
            event.ignore()


@functools.cache
def _clear_clipboard_at_exit() -> None:
    """Empty our blocks from the clipboard before Python shuts down: otherwise Qt frees the
    Python-made QMimeData from a C++ exit handler after the interpreter is gone (a segfault at
    exit). The blocks could not outlive the app anyway: the clipboard is the app's own."""

    def clear() -> None:
        if QGuiApplication.instance() is None:
            return
        clipboard = QGuiApplication.clipboard()
        data = clipboard.mimeData()
        if data is not None and data.hasFormat(BLOCKS_MIME):
            clipboard.clear()

    atexit.register(clear)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
