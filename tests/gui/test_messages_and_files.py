"""Message kinds (info, warning, error: each its own icon), opening files where no application
is registered, and where file dialogs start (issue 14, points 12, 13 and 15)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.presets import preset_path
from gui import folders
from gui.messages import Kind, message_box
from gui.open_file import CannotOpenDialog, open_local
from tests.gui.modal import answer_modal

ICON = QMessageBox.Icon


def test_each_kind_has_its_own_icon(win):
    assert message_box(win, "t", "x", Kind.INFO).icon() == ICON.Information
    assert message_box(win, "t", "x", "warning").icon() == ICON.Warning
    assert message_box(win, "t", "x", "error").icon() == ICON.Critical


def test_tell_shows_the_icon_of_its_kind(win, qtbot):
    """The real MainWindow.tell, with the box it shows."""
    icons = []
    for kind in ("info", "warning", "error"):
        seen = answer_modal(lambda box: icons.append((box.icon(), box.text())))
        win.tell("Title", f"a {kind}", kind)
        assert seen
    assert icons == [
        (ICON.Information, "a info"),
        (ICON.Warning, "a warning"),
        (ICON.Critical, "a error"),
    ]


def test_callers_pass_the_right_kind(gui, win, tmp_path):
    win.training._export_done(True, "✓ torch onnx")
    win.training._export_done(False, "✗ torch onnx")
    assert gui.messages[-2][0] == "Export finished" and gui.kinds[-2:] == ["info", "warning"]
    bad = tmp_path / "bad.twintrain.json"
    bad.write_text("{ not json")
    assert not win.open_path(bad, ask=False)
    assert gui.messages[-1][0] == "Cannot open project" and gui.kinds[-1] == "error"
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    (tmp_path / "code").mkdir()
    assert win.training.export_code(tmp_path / "code")
    assert win.training.export_code(tmp_path / "code") == []
    assert gui.messages[-1][0] == "Files exist" and gui.kinds[-1] == "warning"


# ---- opening files (point 13) ----------------------------------------------------------------


def test_open_fails_visibly_with_the_path_and_copy_and_folder_buttons(win, qtbot, tmp_path):
    report = tmp_path / "run" / "report.html"
    report.parent.mkdir()
    report.write_text("<html></html>")
    # The offscreen platform has no browser: the real openUrl returns False.
    assert open_local(win, report, "the run's report") is False
    dialog = win.findChild(CannotOpenDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.path_edit.text() == str(report)
    assert "the run's report" in dialog.message.text()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == str(report)
    assert "copied" in dialog.status.text()
    dialog.folder_button.click()  # no file manager either: says so
    assert str(report.parent) in dialog.status.text()
    dialog.close()


class _Handler(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_succeeds_quietly_where_a_handler_is_registered(win, tmp_path):
    handler = _Handler()
    QDesktopServices.setUrlHandler("file", handler, "handle")
    try:
        assert open_local(win, tmp_path / "report.html") is True
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [u.toLocalFile() for u in handler.urls] == [str(tmp_path / "report.html")]
    assert win.findChild(CannotOpenDialog) is None


def test_dashboard_open_report_shows_the_path_when_nothing_opens_it(dash, tmp_path):
    (tmp_path / "report.html").write_text("<html></html>")
    dash.controller.run_dir = tmp_path
    assert dash.open_report() is False
    dialog = dash.findChild(CannotOpenDialog)
    assert dialog is not None and dialog.path_edit.text() == str(tmp_path / "report.html")
    dialog.close()


# ---- export folders and dialog start folders (point 15) ---------------------------------------


def test_export_code_accepts_a_new_folder_like_export_model(gui, win, qtbot, tmp_path):
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    folders.remember(tmp_path)
    new = tmp_path / "new" / "code"

    def fill(dialog):
        assert dialog.folder_row.start == tmp_path  # starts in the last used folder
        dialog.folder.setText(str(new))
        dialog.accept()

    seen = answer_modal(fill)
    written = win.training.export_code()
    assert seen and type(seen[0]).__name__ == "CodeExportDialog"
    assert sorted(p.name for p in written) == ["model_keras.py", "model_torch.py"]
    assert (new / "model_torch.py").is_file()
    assert folders.start_dir() == new  # remembered for the next dialog
    assert not gui.messages


def test_file_dialogs_start_in_the_last_used_folder(win, qtbot, tmp_path):
    win.doc.undo_stack.setClean()
    used = tmp_path / "projects"
    used.mkdir()
    folders.remember(used / "some.twintrain.json")  # a chosen file: its folder is remembered
    dirs = []
    seen = answer_modal(
        lambda d: (
            dirs.append(Path(d.directory().absolutePath())) if isinstance(d, QFileDialog) else None
        )
    )
    win.open_dialog()
    assert seen and dirs == [used]


def test_file_dialogs_start_in_the_project_folder_before_any_was_used(win, preset_copy):
    path = preset_copy("xor_mlp")
    assert win.open_path(path, ask=False)
    assert folders.start_dir(win.doc.base_dir) == path.parent
