"""pyqtgraph (a third of the start-up imports) is not imported while the window opens: it is
imported once the window has been idle a while (so the first Train does not wait for it) and
the plots are built when first seen; they then get the options chosen before they existed."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

SHOW_THEN_LOOK = """
import sys
from PySide6.QtCore import QTimer
from gui.app import create_app, create_window
app = create_app()
win = create_window(["digits_cnn"])
win.show()
def look():
    print("at idle:", "pyqtgraph" in sys.modules, win.training.dashboard.plots.built)
    QTimer.singleShot(2500, later)
def later():
    print("idle a while:", "pyqtgraph" in sys.modules, win.training.dashboard.plots.built)
    win.training.show_dashboard(True)
    QTimer.singleShot(300, shown)
def shown():
    print("dashboard open:", "pyqtgraph" in sys.modules, win.training.dashboard.plots.built)
    win.doc.undo_stack.setClean()
    win.close()
    app.quit()
QTimer.singleShot(500, look)
app.exec()
"""


def test_the_window_opens_without_pyqtgraph_and_imports_it_with_the_dashboard(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TWINTRAIN_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", SHOW_THEN_LOOK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "at idle: False False" in out.stdout, out.stdout
    assert "idle a while: True False" in out.stdout, out.stdout  # preloaded, not yet built
    assert "dashboard open: True True" in out.stdout, out.stdout


def test_options_chosen_before_the_plots_exist_reach_them(win, qtbot):
    dash = win.training.dashboard
    if dash.plots.built:  # another test's window may have opened it; this one is fresh
        raise AssertionError("the plots were built before the dashboard was shown")
    dash.log_loss.setChecked(True)
    dash.x_axis.setCurrentIndex(dash.x_axis.findData("wall"))
    dash.detail.setCurrentIndex(dash.detail.findData("memory"))
    win.training.show_dashboard(True)
    qtbot.waitUntil(lambda: dash.plots.built, timeout=5000)
    plots = dash.plots.widget()
    assert plots.plots["loss"].ctrl.logYCheck.isChecked()
    assert plots.x_mode == "wall" and plots.detail == "memory"
    assert dash.detail_box.isVisible() == (plots.arrangement == "short")
