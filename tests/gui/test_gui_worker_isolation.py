"""A run from the app, started in a folder of files named like modules, imports none of them:
warm workers, the run's workers and the finalizer all start in TwinTrain's own folder."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from shadowing import shadowing_folder, shadowing_markers

from engine.presets import preset_path

# what a worker process imports from where it starts (tests/served_workers.py)
pytestmark = pytest.mark.fresh_workers

RUN_TIMEOUT_MS = 180_000


@pytest.fixture
def window_in_user_folder(qtbot, monkeypatch, tmp_path):
    folder = shadowing_folder(tmp_path / "my project")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("TWINTRAIN_WARM_WORKERS", "1")
    from gui.main_window import MainWindow

    window = MainWindow()
    window.ask = lambda *args: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window, folder
    window.doc.undo_stack.setClean()
    window.close()


def test_a_gui_run_on_warm_workers_imports_nothing_from_the_users_folder(
    window_in_user_folder, qtbot
):
    win, folder = window_in_user_folder
    training = win.training
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    win.doc.set_training(("epochs",), 1)
    qtbot.waitUntil(
        lambda: training.warm_state() == {"torch": "ready", "tensorflow": "ready"},
        timeout=RUN_TIMEOUT_MS,
    )
    assert training.train()
    c = training.controller
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: (c.run_dir / "report.html").is_file(), timeout=60_000
    )  # the finalizer ran too
    for fw in ("torch", "tensorflow"):
        figures = c.summary["frameworks"][fw]
        assert figures["status"] == "finished" and figures["steps"] == 25, figures
        assert figures["prestarted"] is True
    assert c.summary["parity"]["max_loss_abs_diff"] < 1e-5
    assert shadowing_markers(folder) == []
