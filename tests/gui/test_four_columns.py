"""The GUI for one to four runtimes: a checkbox per registered runtime (a missing one greyed out
with the reason and the command that installs it), and every view of a run (states, plots and
their legend, the summary table with its Comparison column, the Runs panel's overlays) with one
distinct colour per column from the registry, still fitting a 1280x800 window with four."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PySide6.QtGui import QColor, QFontMetrics

import engine.runtimes
from engine.events import Epoch, Ready, Status, Steps
from engine.runtimes import DEFAULT_RUNTIMES, RUNTIMES, colour_of, label_of
from gui.run.buffers import Series
from gui.run.export_actions import run_frameworks
from gui.run.figures import live_parity_of

FOUR = tuple(RUNTIMES)
STEPS = 60
BATCH = 32


def steps_event(i: int, n: int = STEPS, start: int = 1) -> Steps:
    """Step records of column ``i``: its own speed, losses that agree to about 1e-6."""
    steps = np.arange(start, start + n)
    return Steps(
        step=[int(s) for s in steps],
        epoch=[1] * n,
        loss=[float(0.7 * np.exp(-s / 30) + 0.2 + 1e-6 * i) for s in steps],
        step_time_s=[1e-3 * (1 + i)] * n,
        samples=[BATCH] * n,
        rss_bytes=[int(3e8 + 5e7 * i)] * n,
        device_bytes=[None] * n,
        wall_s=[float(s * 1e-3 * (1 + i)) for s in steps],
    )


def feed_run(dash, columns, tmp_path, *, failed: str | None = None) -> None:
    """A run of ``columns`` as the controller sees one: its buffers set up as ``start`` sets
    them, then the engine's own events through the controller's queued hop."""
    c = dash.controller
    c.run_dir = tmp_path / "runs" / "xor-mlp-20261204-031500-000001"
    c.series = {fw: Series(warmup=5) for fw in columns}
    c.epochs = {fw: [] for fw in columns}
    c.status = {fw: "starting" for fw in columns}
    c.infos, c.errors = {}, {}
    c.expected_steps = STEPS
    c.running_changed.emit(True)
    for i, fw in enumerate(columns):
        c._inbox.append((fw, Ready(info={"version": f"{i}.0", "device": "cpu", "threads": 1})))
        c._inbox.append((fw, steps_event(i)))
        epoch = Epoch(
            epoch=1,
            train_loss=0.3,
            val_loss=0.31 + i * 1e-6,
            val_accuracy=0.9,
            epoch_time_s=0.1,
            steps=STEPS,
        )
        c._inbox.append((fw, epoch))
        if fw == failed:
            c._inbox.append((fw, Status("error", error=f"{label_of(fw)} worker was killed")))
        else:
            c._inbox.append((fw, Status("finished")))
    c._drain()
    dash.refresh(force_table=True)


# ---- the run options --------------------------------------------------------------------------


def test_one_checkbox_per_runtime_defaults_ticked(dash):
    assert tuple(dash.framework_boxes) == FOUR
    for fw, box in dash.framework_boxes.items():
        assert box.text() == label_of(fw)  # the registry's label, never retyped
        assert box.isEnabled()  # all four are installed in the test environment
        assert box.isChecked() == (fw in DEFAULT_RUNTIMES)
        assert box.toolTip() == RUNTIMES[fw].summary
    assert dash.chosen().frameworks == DEFAULT_RUNTIMES
    for box in dash.framework_boxes.values():
        box.setChecked(True)
    assert dash.chosen().frameworks == FOUR  # in the registry's order
    dash.framework_boxes["torch"].setChecked(False)
    assert dash.chosen().frameworks == FOUR[1:]


def test_a_missing_runtime_is_greyed_out_with_the_reason_and_the_command(
    qtbot, monkeypatch, tmp_path
):
    from gui.run.controller import RunController
    from gui.run.dashboard import Dashboard

    real = engine.runtimes.missing_packages
    monkeypatch.setattr(
        engine.runtimes,
        "missing_packages",
        lambda name: ["jax", "jaxlib"] if name == "keras-jax" else real(name),
    )
    controller = RunController()
    dash = Dashboard(controller)
    qtbot.addWidget(dash)
    dash.show()
    box = dash.framework_boxes["keras-jax"]
    assert not box.isEnabled() and not box.isChecked()
    assert box.text() == "Keras on JAX (not installed)"
    tip = box.toolTip()
    assert "jax, jaxlib" in tip and 'pip install "twintrain[jax]"' in tip
    assert tip == engine.runtimes.unavailable_reason("keras-jax")
    box.setChecked(True)  # even ticked from code, it is never asked for
    assert "keras-jax" not in dash.chosen().frameworks
    others = [b for fw, b in dash.framework_boxes.items() if fw != "keras-jax"]
    assert all(b.isEnabled() for b in others)
    controller.run_dir = tmp_path / "runs" / "a-run"
    controller.running_changed.emit(True)  # a run locks the options...
    assert not any(b.isEnabled() for b in dash.framework_boxes.values())
    controller.running_changed.emit(False)  # ...and unlocks only what can run
    assert not box.isEnabled() and all(b.isEnabled() for b in others)
    controller.shutdown()


def test_nothing_ticked_names_the_runtimes_to_tick(gui):
    training = gui.win.training
    for box in training.dashboard.framework_boxes.values():
        box.setChecked(False)
    assert not training.train()
    ((title, text),) = gui.messages
    assert title == "Nothing to train"
    assert text == (
        "Tick at least one of PyTorch, TensorFlow, Keras on JAX or Keras on PyTorch "
        "above the plots."
    )


def test_the_states_shown_follow_the_ticks_until_a_run_is_shown(dash, tmp_path):
    def shown():
        return tuple(fw for fw, w in dash.status.items() if w.isVisible())

    assert shown() == DEFAULT_RUNTIMES
    dash.framework_boxes["keras-jax"].setChecked(True)
    assert shown() == ("torch", "tensorflow", "keras-jax")
    feed_run(dash, ("keras-torch", "torch"), tmp_path)
    assert shown() == ("torch", "keras-torch")  # the run's, whatever is ticked now
    dash.framework_boxes["tensorflow"].setChecked(False)
    assert shown() == ("torch", "keras-torch")


# ---- four columns of a run --------------------------------------------------------------------


@pytest.mark.parametrize("columns", [("keras-jax",), FOUR[:2], FOUR[:3], FOUR])
def test_one_to_four_columns_in_every_view_with_the_registry_colours(
    dash, qtbot, tmp_path, columns
):
    loaded_before = set(sys.modules)  # another test in this process may have loaded one
    feed_run(dash, columns, tmp_path)
    table, plots = dash.table, dash.plots
    # the summary table: one column per runtime in its colour, then the comparison
    assert table.columnCount() == len(columns) + 1
    assert table.horizontalHeaderItem(len(columns)).text() == "Comparison"
    for col, fw in enumerate(columns):
        item = table.horizontalHeaderItem(col)
        assert item.text().replace("\n", " ") == label_of(fw).split("/")[0]
        assert item.foreground().color() == QColor(colour_of(fw))
        assert item.toolTip() == label_of(fw)
        metrics = QFontMetrics(table.horizontalHeader().font())
        widest = max(metrics.horizontalAdvance(line) for line in item.text().split("\n"))
        assert table.columnWidth(col) >= widest + 8  # the header is not cut off
        assert table.text("Steps", col) == str(STEPS)
    compare = table.text("Median step (ms)", len(columns))
    if len(columns) == 1:
        assert compare == "" and table.text("Max |loss diff|", 0) == "–"
    else:
        # the fastest is column 0 (1 ms a step), named against the runner-up
        assert compare.startswith(f"{label_of(columns[0])} 2.00× faster")
        assert (" than " in compare) == (len(columns) > 2)
        labels = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
        bold = table.item(labels.index("Median step (ms)"), 0)
        assert bold.font().bold() and bold.foreground().color() == QColor(colour_of(columns[0]))
        diff = table.text("Max |loss diff|", 0)
        assert float(diff.split()[0]) == pytest.approx(1e-6 * (len(columns) - 1), rel=0.01)
        if len(columns) > 2:  # each against the reference, by name
            assert f"vs {label_of(columns[0])}: " in diff
            assert all(label_of(fw) in diff for fw in columns[1:])
        assert table.text("First divergent step", 0) == "none (within tolerance)"
    # the plots: a curve set per column, each in its colour; the legend names each column once
    assert {fw for fw, _key in plots.curves} == set(columns)
    for fw in columns:
        assert len(plots.curves[(fw, "loss")].getData()[0]) == STEPS
        assert plots.curves[(fw, "loss")].opts["pen"].color() == QColor(colour_of(fw))
    entries = plots.legend.entries[: len(columns)]
    assert [e.text for e in entries] == [label_of(fw) for fw in columns]
    assert [e.pen.color().name().upper() for e in entries] == [colour_of(fw) for fw in columns]
    # the states: one per column of the run, in its colour, each finished
    for fw, w in dash.status.items():
        assert w.isVisible() == (fw in columns)
        if fw in columns:
            assert colour_of(fw) in w.title.text() and label_of(fw) in w.title.text()
            assert w.state.text() == f"finished · {STEPS} steps" or w.state.text() == "finished"
    assert not {"torch", "tensorflow", "keras", "jax"} & (set(sys.modules) - loaded_before)


def test_the_registry_colours_are_distinct():
    colours = [colour_of(fw) for fw in RUNTIMES]
    assert len({QColor(c).name() for c in colours}) == len(colours)
    # far enough apart to tell the curves apart: no two closer than 60 in RGB
    rgb = [np.array(QColor(c).getRgb()[:3], dtype=float) for c in colours]
    assert min(np.linalg.norm(a - b) for i, a in enumerate(rgb) for b in rgb[i + 1 :]) > 60


def test_a_failed_column_of_four_shows_its_error_in_its_colour(dash, tmp_path):
    feed_run(dash, FOUR, tmp_path, failed="keras-jax")
    status = dash.status["keras-jax"]
    assert status.message.isVisible()
    assert status.message.text() == "Keras on JAX worker was killed"
    assert status.state.text() == "failed"
    assert all(not dash.status[fw].message.isVisible() for fw in FOUR if fw != "keras-jax")


def test_live_parity_compares_each_column_with_the_first():
    series = {}
    for i, fw in enumerate(FOUR):
        s = Series(warmup=5)
        s.extend(steps_event(i).columns)
        series[fw] = s
    parity = live_parity_of(series)
    assert parity["reference"] == "torch" and list(parity["pairs"]) == list(FOUR[1:])
    assert parity["max_loss_abs_diff"] == pytest.approx(3e-6, rel=0.01)
    assert parity["pairs"]["tensorflow"]["max_loss_abs_diff"] == pytest.approx(1e-6, rel=0.01)
    assert parity["first_divergent_step"] is None
    series["keras-torch"]["loss"][20:] += 1.0  # parts at step 21
    assert live_parity_of(series)["first_divergent_step"] == 21
    assert live_parity_of({"torch": series["torch"]}) is None


# ---- the Runs panel ---------------------------------------------------------------------------


def test_runs_overlaid_in_each_columns_colour(dash):
    dash.plots.reset(FOUR, STEPS)
    earlier = {fw: (np.arange(1, 61), np.linspace(0.9, 0.3, 60)) for fw in FOUR}
    dash.plots.set_overlays([("earlier", earlier)])
    assert len(dash.plots.overlays) == 4
    for fw, item in zip(FOUR, dash.plots.overlays):
        assert item.opts["pen"].color().rgb() == QColor(colour_of(fw)).rgb()  # alpha aside


# ---- 1280x800 ---------------------------------------------------------------------------------


def test_four_columns_fit_a_1280_by_800_window(win, qtbot, tmp_path):
    training = win.training
    dash = training.dashboard
    for box in dash.framework_boxes.values():
        box.setChecked(True)
    training.show_dashboard(True)
    feed_run(dash, FOUR, tmp_path)
    qtbot.waitUntil(lambda: dash.isVisible() and dash.height() > 200)
    for _ in range(3):
        qtbot.wait(20)
    assert win.minimumSizeHint().width() <= 1280
    assert win.width() == 1280  # not pushed wider by four columns
    assert dash.tabs.isVisible()  # too narrow for plots and a five-column table side by side
    # every option is whole, inside the dashboard (the row wraps instead of clipping)
    for box in (*dash.framework_boxes.values(), dash.export_button, dash.report_button):
        assert box.width() >= box.sizeHint().width(), box.text()
        right = box.mapTo(dash, box.rect().topRight()).x()
        assert box.mapTo(dash, box.rect().topLeft()).x() >= 0 and right <= dash.width()
    # each state's coloured title is whole, two a row beside the run's folder
    for fw in FOUR:
        w = dash.status[fw]
        assert w.isVisible() and w.title.width() >= w.title.sizeHint().width(), fw
        assert w.mapTo(dash, w.rect().topRight()).x() <= dash.width()
    rows = {dash.status[fw].mapTo(dash, dash.status[fw].rect().topLeft()).y() for fw in FOUR}
    assert len(rows) == 2
    # the summary table: four framework columns and the comparison within the tab's width
    dash.tabs.setCurrentWidget(dash.table)
    table = dash.table
    used = sum(table.columnWidth(c) for c in range(table.columnCount() - 1))
    assert used + 120 <= table.viewport().width()  # room left for the Comparison column
    plots = dash.plots
    dash.tabs.setCurrentWidget(plots)
    qtbot.wait(50)
    legend = plots.legend.sceneBoundingRect()
    for entry in plots.legend.entries:
        assert legend.contains(entry.sceneBoundingRect().adjusted(1, 1, -1, -1)), entry.text


def four_column_run(root, name: str = "xor-mlp-20261204-031500-000001"):
    """A finished run folder of all four runtimes, as the recorder writes one."""
    from tests.gui.test_chart_export import fake_run

    folder = fake_run(root / name, columns=FOUR, steps=STEPS, summary=False)
    pair = {
        "initial_loss_abs_diff": 1e-7,
        "max_loss_abs_diff": 2e-7,
        "first_divergent_step": None,
        "steps_compared": STEPS,
        "tolerance": 1e-3,
    }
    summary = {
        "project": "xor-mlp",
        "schedule": "alternate",
        "init": "matched",
        "optimizer": "matched",
        "frameworks": {
            fw: {
                "status": "finished",
                "steps": STEPS,
                "step_time_median_s": 1e-3 * (1 + i),
                "samples_per_s": 32000.0 / (1 + i),
            }
            for i, fw in enumerate(FOUR)
        },
        "parity": {
            **pair,
            "notes": [],
            "reference": "torch",
            "pairs": dict.fromkeys(FOUR[1:], pair),
        },
        "notes": [],
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_a_past_run_of_four_columns_and_its_overlay(win, data_dir, qtbot):
    ui = win.training
    dash = ui.dashboard
    root = data_dir / "runs"
    older = four_column_run(root, "xor-mlp-20261204-031500-000001")
    newer = four_column_run(root, "xor-mlp-20261204-031600-000001")
    ui.runs.refresh()
    ui.runs.select([newer])
    table = dash.table
    assert table.frameworks == FOUR and table.columnCount() == 5
    assert [fw for fw, w in dash.status.items() if w.isVisible()] == list(FOUR)
    for col, fw in enumerate(FOUR):
        assert table.text("Steps", col) == str(STEPS)
        assert dash.status[fw].state.text() == f"finished · {STEPS} steps"
        assert len(dash.plots.curves[(fw, "loss")].getData()[0]) == STEPS
    assert table.text("Median step (ms)", 4) == "PyTorch 2.00× faster than TensorFlow/Keras"
    assert table.text("Max |loss diff|", 0).startswith("2e-07 (vs PyTorch: TensorFlow/Keras 2e-07")
    ui.runs.select([newer, older])  # the other run overlaid, a curve per column in its colour
    assert len(dash.plots.overlays) == 4
    for fw, item in zip(FOUR, dash.plots.overlays):
        assert item.opts["pen"].color().rgb() == QColor(colour_of(fw)).rgb()
    # File > Export Model from its trained weights builds the runtimes it trained
    assert run_frameworks(newer) == FOUR
