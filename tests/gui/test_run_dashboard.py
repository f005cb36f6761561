"""Training from the GUI's run controller and dashboard with real workers on a tiny preset."""

from __future__ import annotations

import csv
import os
import signal
import sys
import time

import pytest

from engine.presets import load_project_arg
from engine.tensorboard_events import read_events
from gui.run.chart_export import export_charts
from gui.run.runs_panel import RunsPanel, load_loss_curves
from tests.processes import live_children

# counts the processes left behind (tests/served_workers.py)
pytestmark = pytest.mark.fresh_workers

RUN_TIMEOUT_MS = 120_000


def test_train_xor_from_the_dashboard(dash, qtbot, tmp_path):
    c = dash.controller
    project = load_project_arg("xor_mlp")
    project.training["epochs"] = 2
    run_dir = c.start(project, expected_steps=50)
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    for fw in (
        "torch",
        "tensorflow",
    ):  # TensorBoard scalars from each worker, as with `twintrain train`
        (events,) = (run_dir / "tb" / fw).glob("events.out.tfevents.*")
        assert sum("train/loss" in e["scalars"] for e in read_events(events)) == 50
    for fw in ("torch", "tensorflow"):
        assert len(c.series[fw]) == 50
        xs, ys = dash.plots.curves[(fw, "loss")].getData()
        assert len(xs) == 50 and ys[-1] < ys[0] * 1.5
        assert len(dash.plots.curves[(fw, "val_loss")].getData()[0]) == 2
        assert c.status[fw] == "finished"
    assert dash.table.text("Median step (ms)", 0) not in ("", "–")
    assert dash.table.text("Median step (ms)", 1) not in ("", "–")
    compared = dash.table.text(
        "Median step (ms)", 2
    )  # "PyTorch 1.23× faster", the direction in words
    assert compared == "about the same" or compared.split(" ")[0] in (
        "PyTorch",
        "TensorFlow/Keras",
    ), compared
    assert compared == "about the same" or (
        compared.endswith("× faster") and float(compared.split()[-2][:-1]) >= 1.0
    )
    assert float(dash.table.text("Max |loss diff|", 0)) < 1e-4
    assert dash.table.text("First divergent step", 0) == "none (within tolerance)"
    assert "Keras-formula Adam" in dash.table.text(
        "Timing note", 0
    )  # names the optimizer PyTorch ran
    lo, hi = dash.plots.plots["loss"].viewRange()[0]
    for plot in dash.plots.plots.values():
        assert plot.viewRange()[0] == [lo, hi]  # x axes linked by value, not by screen position
    assert (run_dir / "summary.json").is_file() and (run_dir / "report.html").is_file()
    assert dash.report_button.isEnabled()
    written = export_charts(
        run_dir, tmp_path / "charts"
    )  # drawn from the run folder (test_chart_export.py)
    assert len(written) == 15 and all(p.stat().st_size > 0 for p in written)
    with open(tmp_path / "charts" / "loss.csv", newline="") as fh:
        frameworks = {row["framework"] for row in csv.DictReader(fh)}
    assert frameworks == {"torch", "tensorflow"}
    panel = RunsPanel(run_dir.parent)
    qtbot.addWidget(panel)
    assert run_dir in panel.folders()
    curves = load_loss_curves(run_dir)
    assert set(curves) == {"torch", "tensorflow"} and len(curves["torch"][0]) == 50
    dash.plots.set_overlays([("earlier", curves)])
    assert len(dash.plots.overlays) == 2
    assert not {"torch", "tensorflow", "keras"} & set(sys.modules)


@pytest.mark.serial  # times itself (tests/xdist_serial.py)
def test_stop_mid_run_then_train_again(dash, qtbot):
    c = dash.controller
    project = load_project_arg("digits_mlp")
    project.training["epochs"] = 3000  # long enough that neither finishes before the stop
    c.start(project)
    qtbot.waitUntil(lambda: all(len(s) > 5 for s in c.series.values()), timeout=RUN_TIMEOUT_MS)
    workers = [r.process.pid for r in c.session.runs.values()]
    c.stop()
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: not [p for p in live_children() if p.pid in workers], timeout=1000)
    assert time.monotonic() - t0 < 1.0
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    assert set(c.status.values()) == {"stopped"}
    project = load_project_arg("xor_mlp")
    project.training["epochs"] = 1
    c.start(project)
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    assert set(c.status.values()) == {"finished"}
    assert live_children() == []  # the chart-drawing process is gone too


def test_killed_tf_worker_shows_its_error_while_torch_completes(dash, qtbot):
    c = dash.controller
    project = load_project_arg("digits_mlp")
    project.training["epochs"] = 150
    c.start(project)
    qtbot.waitUntil(lambda: len(c.series["tensorflow"]) > 3, timeout=RUN_TIMEOUT_MS)
    os.kill(c.session.runs["tensorflow"].process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    assert c.status == {"torch": "finished", "tensorflow": "error"}
    status = dash.status["tensorflow"]
    assert status.message.isVisible() and "SIGKILL" in status.message.text()
    assert status.details_button.isVisible()
    assert "error" in c.summary["frameworks"]["tensorflow"]
    assert c.summary["frameworks"]["torch"]["steps"] == len(c.series["torch"])
