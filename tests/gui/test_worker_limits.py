"""Run > Worker Limits…: the user sets a memory cap and a hang timeout; a typo is refused in the
dialog; the limits are remembered and reach the run, where a worker over its cap is stopped
with a message in its column."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from engine.presets import preset_path
from gui.run.limits import DEFAULT_HANG_S, Limits, load_limits

RUN_TIMEOUT_MS = 120_000


def press(dialog, which) -> None:
    dialog.buttons.button(which).click()


def test_limits_dialog_refuses_a_typo_and_remembers_what_is_accepted(win, qtbot):
    training = win.training
    assert training.limits == Limits(0, DEFAULT_HANG_S)  # no cap, 120 s: the engine's defaults
    training.act_limits.trigger()
    dialog = training.limits_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.memory.text() == "No cap"
    dialog.memory.setValue(32)
    press(dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible()  # refused, and says why
    assert "32 MB is below what a framework needs" in dialog.problem.text()
    dialog.memory.setValue(2048)
    dialog.hang.setValue(30)
    press(dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: training.limits_dialog is None)
    assert training.limits == Limits(2048, 30)
    assert load_limits() == Limits(2048, 30)  # the next start of the app gets them
    assert "memory cap 2048 MB, hang timeout 30 s" in win.statusBar().currentMessage()
    # Cancel changes nothing; Restore Defaults then OK goes back to no cap and 120 s
    training.act_limits.trigger()
    training.limits_dialog.hang.setValue(999)
    press(training.limits_dialog, QDialogButtonBox.StandardButton.Cancel)
    qtbot.waitUntil(lambda: training.limits_dialog is None)
    assert training.limits == Limits(2048, 30)
    training.act_limits.trigger()
    press(training.limits_dialog, QDialogButtonBox.StandardButton.RestoreDefaults)
    press(training.limits_dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: training.limits_dialog is None)
    assert training.limits == load_limits() == Limits(0, DEFAULT_HANG_S)


def test_a_worker_over_the_memory_cap_is_stopped_with_a_message_in_its_column(win, qtbot):
    training, c = win.training, win.training.controller
    training.act_limits.trigger()
    training.limits_dialog.memory.setValue(100)  # PyTorch alone takes more once imported
    training.limits_dialog.hang.setValue(60)
    press(training.limits_dialog, QDialogButtonBox.StandardButton.Ok)
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    training.dashboard.framework_boxes["tensorflow"].setChecked(False)
    assert training.train()
    assert c.session.rss_cap_bytes == 100 * 2**20 and c.session.hang_timeout_s == 60.0
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    assert c.status == {"torch": "error"}
    assert "above the cap of 100 MiB; torch was stopped" in c.errors["torch"][0]
    column = training.dashboard.status["torch"]
    assert column.message.isVisible() and "above the cap of 100 MiB" in column.message.text()
    assert not training.locked and training.act_train.isEnabled()
