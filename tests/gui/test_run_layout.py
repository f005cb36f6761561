"""The canvas during a run: it keeps a usable share of the window while the dashboard is open,
the split the user drags is remembered, and Stop unlocks it as soon as the workers have stopped."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from engine.presets import preset_path

RUN_TIMEOUT_MS = 120_000


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_canvas_stays_usable_when_the_dashboard_opens(win, qtbot, size):
    win.resize(*size)
    qtbot.wait(50)
    training = win.training
    training.act_dashboard.setChecked(True)
    qtbot.wait(50)
    canvas, dashboard = training.splitter.sizes()
    assert dashboard >= 300  # the dashboard really opened
    assert win.view.viewport().height() >= 300
    assert canvas >= 0.4 * (canvas + dashboard)


def drag_handle(splitter, dy: int) -> None:
    handle = splitter.handle(1)
    start = QPoint(handle.width() // 2, handle.height() // 2)
    QTest.mousePress(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(handle, start + QPoint(0, dy // 2))
    QTest.mouseMove(handle, start + QPoint(0, dy))
    QTest.mouseRelease(
        handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(0, dy)
    )


def test_the_split_is_remembered_for_a_new_window(win, qtbot):
    from gui.main_window import MainWindow

    win.resize(1920, 1080)
    qtbot.wait(50)
    win.training.act_dashboard.setChecked(True)
    qtbot.wait(50)
    before = win.training.splitter.sizes()
    drag_handle(win.training.splitter, 120)
    dragged = win.training.splitter.sizes()
    assert dragged[0] > before[0] + 60
    share = dragged[0] / sum(dragged)
    other = MainWindow()
    qtbot.addWidget(other)
    other.resize(1920, 1080)
    other.show()
    qtbot.waitExposed(other)
    other.training.act_dashboard.setChecked(True)
    qtbot.wait(50)
    sizes = other.training.splitter.sizes()
    assert abs(sizes[0] / sum(sizes) - share) < 0.02
    other.doc.undo_stack.setClean()


@pytest.mark.serial  # times itself (tests/xdist_serial.py)
def test_stop_unlocks_the_canvas_before_the_charts_are_drawn(gui, win, qtbot, monkeypatch):
    import gui.run.controller as controller_module

    # charts and report that take 5 s to draw: the canvas must not wait for them
    monkeypatch.setattr(
        controller_module,
        "finalize_command",
        lambda out: [sys.executable, "-c", "import time; time.sleep(5)"],
    )
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    gui.click_empty()
    gui.set_field("training.epochs", 2000)
    training = win.training
    training.act_train.trigger()
    c = training.controller
    qtbot.waitUntil(lambda: all(len(s) > 5 for s in c.series.values()), timeout=RUN_TIMEOUT_MS)
    assert training.locked
    training.act_stop.trigger()
    qtbot.waitUntil(lambda: c.session.finished, timeout=5000)
    qtbot.waitUntil(lambda: not training.locked, timeout=1000)
    assert c.running and not training.act_train.isEnabled()  # the run folder is still being closed
    assert (
        not training.lock_banner.isVisible()
        and win.layers_panel.isEnabled()
        and win.inspector.isEnabled()
    )
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    assert not training.locked and training.act_train.isEnabled()
