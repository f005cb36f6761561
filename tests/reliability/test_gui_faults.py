"""Worker faults during a run started from the main window (Train, F5): the failed framework's
column shows its error, the other framework finishes, the window keeps processing events the
whole time (a 10 ms timer keeps firing), the run folder is complete and no process is left.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from PySide6.QtCore import Qt, QTimer

from engine.presets import preset_path
from tests.reliability.conftest import live_children

RUN_TIMEOUT_MS = 180_000


class Heartbeat:
    """A 10 ms timer in the GUI thread; gaps between its ticks are how long the window froze."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))
        self.timer.start()

    def stop(self) -> tuple[float, float]:
        """(ticks per second, longest gap in seconds)."""
        self.timer.stop()
        gaps = [b - a for a, b in zip(self.times, self.times[1:])]
        return (len(self.times) - 1) / (self.times[-1] - self.times[0]), max(gaps)


@pytest.mark.serial  # times itself (tests/xdist_serial.py)
@pytest.mark.parametrize("case", ["sigkill", "exception"])
def test_fault_during_a_gui_run(case, gui, win, qtbot, monkeypatch):
    victim, other = ("torch", "tensorflow") if case == "sigkill" else ("tensorflow", "torch")
    if case == "exception":
        monkeypatch.setenv("TWINTRAIN_TEST_FAULT", "tensorflow:raise:7")
    else:
        monkeypatch.delenv("TWINTRAIN_TEST_FAULT", raising=False)
    epochs = 40 if case == "sigkill" else 2  # long enough for the kill to land mid-run
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    gui.click_empty()
    gui.set_field("training.epochs", epochs)
    training, c = win.training, win.training.controller
    beat = Heartbeat()
    training.act_train.trigger()
    assert c.running
    if case == "sigkill":
        qtbot.waitUntil(lambda: len(c.series[victim]) >= 3, timeout=RUN_TIMEOUT_MS)
        os.kill(c.session.runs[victim].process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    rate, longest = beat.stop()
    print(f"heartbeat {rate:.0f}/s, longest gap {longest * 1e3:.0f} ms")

    # the window kept responding: the timer fired all along, no freeze over half a second
    assert rate > 30, rate
    assert longest < 0.5, longest

    # the error is in the victim's column, and only there
    expected = (
        "killed by SIGKILL" if case == "sigkill" else "RuntimeError: injected failure at step 7"
    )
    assert c.status == {victim: "error", other: "finished"}
    assert set(c.errors) == {victim} and expected in c.errors[victim][0]
    failed, fine = training.dashboard.status[victim], training.dashboard.status[other]
    assert failed.message.isVisible() and expected in failed.message.text()
    assert failed.state.text() == "failed" and failed.details_button.isVisible()
    if case == "exception":
        assert "Traceback" in c.errors[victim][1]
    assert not fine.message.isVisible() and fine.state.text() == f"finished · {epochs * 25} steps"
    assert not training.locked and training.act_train.isEnabled()

    # the run folder: the survivor's figures, the victim's error, every row measured
    summary = json.loads((c.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert expected in summary["frameworks"][victim]["error"]
    assert (
        summary["frameworks"][other]["steps"] == epochs * 25
        and "error" not in summary["frameworks"][other]
    )
    rows = (c.run_dir / "metrics.csv").read_text().splitlines()[1:]
    assert sum(r.startswith(f"{other},") for r in rows) == epochs * 25
    assert sum(r.startswith(f"{victim},") for r in rows) == len(c.series[victim])
    assert (c.run_dir / "report.html").is_file()
    assert live_children() == []
