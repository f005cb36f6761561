"""The Help menu: version in About, Getting Started, shortcuts from the real actions, the docs,
the project file format and Report a Problem (issue 14, point 22)."""

from __future__ import annotations

import sys
from importlib import metadata

from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QTextBrowser

from engine.resources import app_root, resource_dir
from gui.help import ShortcutsDialog, TextDialog, about_box, help_file
from tests.gui.modal import answer_modal


def _menu_texts(win) -> list[str]:
    return [a.text().replace("&", "") for a in win.help_menu.actions() if a.text()]


def test_help_menu_offers_the_pages_and_about_shows_the_version(win):
    assert _menu_texts(win) == [
        "Getting Started",
        "Keyboard Shortcuts",
        "Documentation (README)",
        "Project File Format",
        "Report a Problem…",
        "About TwinTrain",
    ]
    version = metadata.version("twintrain")
    assert f"TwinTrain {version}" in about_box(win).text()
    texts = []
    seen = answer_modal(lambda box: texts.append(box.text()))
    win.act_about.trigger()
    assert seen and f"TwinTrain {version}" in texts[0] and "PyTorch" in texts[0]


def test_getting_started_is_bundled_and_shown_offline(win):
    assert help_file("getting_started.html").is_file()
    assert win.help.act_getting_started.shortcut() == QKeySequence("F1")
    win.help.act_getting_started.trigger()
    dialog = win.help.dialog
    assert isinstance(dialog, TextDialog) and dialog.isVisible()
    assert isinstance(dialog.browser, QTextBrowser)
    assert "Getting started with TwinTrain" in dialog.browser.toPlainText()
    assert "Export Model" in dialog.browser.toPlainText()


def test_documentation_and_file_format_pages(win):
    win.help.act_docs.trigger()
    assert "How TwinTrain keeps the comparison fair" in win.help.dialog.browser.toPlainText()
    win.help.act_format.trigger()
    text = win.help.dialog.browser.toPlainText()
    assert "twintrain.json" in text and "validation_split" in text
    from engine.spec.layer_types import LAYER_TYPES

    assert all(name in text for name in LAYER_TYPES)  # generated: every registered layer type


def test_shortcuts_are_read_from_the_actions(win):
    win.help.act_shortcuts.trigger()
    dialog = win.help.dialog
    assert isinstance(dialog, ShortcutsDialog)
    rows = {name: (keys, where) for name, keys, where in dialog.rows()}
    native = QKeySequence.SequenceFormat.NativeText
    assert rows["Train"][0] == "F5"
    assert rows["Save"][0] == win.act_save.shortcut().toString(native)
    assert rows["Copy"][1] == "canvas" and rows["Zoom In"][1] == "anywhere"
    assert rows["Getting Started"][0] == "F1"
    # Not a hand-written list: a new action with a shortcut shows up, one without does not.
    extra = win._action("Brand New Command", lambda: None, "Ctrl+Alt+J")
    win._action("No Shortcut Here", lambda: None)
    win.help.act_shortcuts.trigger()
    rows = {name: keys for name, keys, _ in win.help.dialog.rows()}
    assert rows["Brand New Command"] == extra.shortcut().toString(native)
    assert "No Shortcut Here" not in rows
    names = [
        a.text().replace("&", "").rstrip(".…")
        for a in win.findChildren(QAction)
        if not a.shortcut().isEmpty()
    ]
    assert set(names) <= set(rows)


def test_report_a_problem_copies_system_info_and_says_so(gui, win):
    win.gpus = ["NVIDIA Test GPU"]
    win.help.act_report.trigger()
    text = QGuiApplication.clipboard().text()
    for word in (
        "TwinTrain",
        "Python",
        "Qt ",
        "PySide6",
        "PyTorch",
        "TensorFlow",
        "OS ",
        "CPU",
        "cores",
        "GPU NVIDIA Test GPU",
    ):
        assert word in text, word
    assert metadata.version("twintrain") in text
    title, message = gui.messages[-1]
    assert (
        title == "Report a Problem"
        and "copied to the clipboard" in message
        and gui.kinds[-1] == "info"
    )
    assert not {"torch", "tensorflow", "keras"} & set(sys.modules)  # versions from metadata only


def test_help_files_are_bundled_by_the_pyinstaller_spec():
    spec = (app_root() / "packaging" / "twintrain.spec").read_text()
    assert '(str(ROOT / "assets"), "assets")' in spec  # assets/help comes with assets/
    assert '(str(ROOT / "README.md"), ".")' in spec
    assert (resource_dir("assets") / "help" / "getting_started.html").is_file()
