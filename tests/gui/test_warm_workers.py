"""Keep Workers Warm: the app pre-starts both workers after start-up and after each run, Train
takes them (first points come without the import), and turning it off or closing leaves none."""

from __future__ import annotations

import os
import sys

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from engine.presets import preset_path
from gui.paths import settings_file
from gui.run.controller import WORKER_NICE
from tests.processes import alive

RUN_TIMEOUT_MS = 120_000
WARM_TIMEOUT_MS = 120_000


@pytest.fixture
def warm_win(qtbot, monkeypatch):
    monkeypatch.setenv("TWINTRAIN_WARM_WORKERS", "1")
    from gui.main_window import MainWindow

    window = MainWindow()
    window.ask = lambda *args: QMessageBox.StandardButton.Discard  # closing never waits on a dialog
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.doc.undo_stack.setClean()
    window.doc._forced_dirty = False


@pytest.mark.serial  # times itself (tests/xdist_serial.py)
def test_train_takes_the_warm_workers_and_the_app_warms_new_ones(warm_win, qtbot):
    win, training = warm_win, warm_win.training
    assert training.act_warm.isChecked()
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    win.doc.set_training(("epochs",), 2)
    # the app warms the workers by itself shortly after start-up
    qtbot.waitUntil(
        lambda: training.warm_state() == {"torch": "ready", "tensorflow": "ready"},
        timeout=WARM_TIMEOUT_MS,
    )
    # the status bar follows within its 500 ms poll
    qtbot.waitUntil(
        lambda: training.warm_label.text() == "Workers: PyTorch and TensorFlow ready", timeout=2_000
    )
    warm_pids = training.controller.pool.idle_pids()
    assert len(alive(warm_pids)) == 2
    assert training.train()
    c = training.controller
    assert training.warm_label.text() == ""  # the workers belong to the run now
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    for fw in ("torch", "tensorflow"):
        figures = c.summary["frameworks"][fw]
        assert figures["status"] == "finished" and figures["steps"] == 50
        assert figures["prestarted"] is True and figures["startup"].endswith("(pre-started)")
        assert c.infos[fw]["pid"] in warm_pids
        assert c.infos[fw]["nice"] == min(os.nice(0) + WORKER_NICE, 19)  # the window comes first
        assert c.first_point_s[fw] < 2.0  # a cold worker spends longer than that importing alone
    assert training.dashboard.table.text("Start-up", 0).endswith("(pre-started)")
    assert not {"torch", "tensorflow", "keras"} & set(sys.modules)
    # after the run the app warms a fresh pair, and closing the window ends them
    qtbot.waitUntil(lambda: len(training.warm_state()) == 2, timeout=10_000)
    fresh = training.controller.pool.idle_pids()
    assert len(alive(fresh)) == 2 and not set(fresh) & set(warm_pids)
    win.close()
    qtbot.waitUntil(lambda: not alive(fresh), timeout=10_000)


def test_turning_warm_workers_off_ends_them_and_is_remembered(warm_win, qtbot, monkeypatch):
    training = warm_win.training
    training.prewarm()
    pids = training.controller.pool.idle_pids()
    assert len(pids) == 2 and training.warm_label.text().startswith("Workers: ")
    training.act_warm.trigger()  # the Run menu's Keep Workers Warm, unticked
    assert training.controller.pool is None and training.warm_label.text() == ""
    qtbot.waitUntil(lambda: not alive(pids), timeout=10_000)
    settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
    assert settings.value("run/warm_workers") in (False, "false")
    monkeypatch.delenv("TWINTRAIN_WARM_WORKERS")
    assert training._warm_setting() is False  # the next start of the app keeps them off


def test_warm_workers_follow_the_run_options(warm_win, qtbot):
    training = warm_win.training
    training.prewarm()
    both = training.controller.pool.idle_pids()
    training.dashboard.framework_boxes["tensorflow"].setChecked(False)
    qtbot.waitUntil(lambda: set(training.warm_state()) == {"torch"}, timeout=5_000)
    # torch alone gets every core, so neither worker fits the new plan: both end, a new one starts
    qtbot.waitUntil(lambda: not alive(both), timeout=10_000)
    only = training.controller.pool.idle_pids()
    assert len(only) == 1 and only[0] not in both
