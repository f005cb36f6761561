"""Export charts… writes charts as good as the run folder's own: 1200 x 700 PNG and SVG with a
title, axis labels and a legend naming every column, and a CSV per chart; drawn from the run
folder in a separate process (the GUI process never loads matplotlib)."""

from __future__ import annotations

import csv
import json
import sys

import numpy as np
from PySide6.QtGui import QImage

from engine.charts import EXPORT_CHARTS
from engine.run_folder import EPOCHS_HEADER, METRICS_HEADER
from engine.style import label_of

COLUMNS = ("torch", "tensorflow", "keras_jax", "torch_compiled")


def fake_run(folder, columns=COLUMNS, steps=60, summary=True):
    """A run folder as the recorder writes it, for any number of columns."""
    folder.mkdir(parents=True)
    with open(folder / "metrics.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(METRICS_HEADER)
        for i, fw in enumerate(columns):
            for s in range(1, steps + 1):
                w.writerow(
                    (
                        fw,
                        1 + (s > steps // 2),
                        s,
                        repr(float(0.7 * np.exp(-s / 30) + 0.2 + 0.01 * i)),
                        f"{1e-3 * (1 + i) + (0.5 if s == 1 else 0):.9f}",
                        "32000.0",
                        400_000_000 + s * 10_000,
                        "",
                    )
                )
    with open(folder / "epochs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EPOCHS_HEADER)
        for fw in columns:
            w.writerow((fw, 1, "0.5", "0.45", "0.8", "0.1"))
            w.writerow((fw, 2, "0.3", "0.28", "0.9", "0.1"))
    if summary:
        (folder / "summary.json").write_text(
            json.dumps({"schedule": "parallel", "init": "matched"})
        )
    return folder


def test_export_charts_from_the_dashboard(dash, qtbot, tmp_path):
    run = fake_run(tmp_path / "run")
    dash.controller.run_dir = run
    out = tmp_path / "exported"
    matplotlib_before = (
        "matplotlib" in sys.modules
    )  # other tests of this process may draw in-process
    assert dash.export_to(out)
    with qtbot.waitSignal(dash.chart_exporter.finished, timeout=120_000) as done:
        pass
    ok, line = done.args
    assert ok, line
    assert "Exported 15 files" in dash.info.text()
    for name in EXPORT_CHARTS:
        image = QImage(str(out / f"{name}.png"))
        assert image.width() >= 1000 and image.height() >= 600, (name, image.size())
        svg = (out / f"{name}.svg").read_text(encoding="utf-8")
        for fw in COLUMNS:
            assert label_of(fw) in svg, (name, fw)  # a legend entry per column
        with open(out / f"{name}.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert {r["framework"] for r in rows} == set(COLUMNS), name
    titles = {
        "loss": "Loss",
        "step_time": "Step time",
        "memory": "Memory",
        "throughput": "Throughput",
        "accuracy": "Validation accuracy",
    }
    for name, title in titles.items():
        svg = (out / f"{name}.svg").read_text(encoding="utf-8")
        assert title in svg and "step" in svg  # the title and the x axis label
    assert ("matplotlib" in sys.modules) == matplotlib_before  # drawn in a separate process


def test_export_works_while_a_run_has_no_summary_yet(tmp_path):
    from gui.run.chart_export import export_charts

    run = fake_run(tmp_path / "run", columns=("torch", "tensorflow"), summary=False)
    written = export_charts(run, tmp_path / "out")
    assert len(written) == 15
    assert QImage(str(tmp_path / "out" / "loss.png")).width() >= 1000


def test_nothing_to_export_before_a_run(dash, tmp_path):
    assert dash.export_to(tmp_path / "out") is False
    assert "Nothing to export" in dash.info.text()
    assert not (tmp_path / "out").exists()
