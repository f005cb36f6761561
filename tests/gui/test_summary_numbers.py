"""The dashboard's summary table: numbers that cannot contradict each other, comparisons that say
which framework is better and in which direction, and rows saying which init and optimizer math
ran, chosen separately above the plots."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from engine.presets import load_project_arg
from engine.report import ROW_HELP
from engine.session import FrameworkRun
from engine.summary import framework_summary
from gui.run.buffers import Series
from gui.run.figures import live_figures

RUN_TIMEOUT_MS = 120_000
BATCH = 16
DIRECTION = re.compile(
    r"(PyTorch|TensorFlow/Keras) \d+\.\d\d× (faster|less( device)? memory|higher throughput|"
    r"shorter warm-up)|about the same"
)


def steps_event(times: list[float], rss: float) -> dict:
    n = len(times)
    return {
        "step": list(range(1, n + 1)),
        "epoch": [1] * n,
        "loss": list(np.linspace(1, 0.5, n)),
        "step_time_s": list(times),
        "samples": [BATCH] * n,
        "rss_bytes": [rss] * n,
        "device_bytes": [None] * n,
        "wall_s": list(np.cumsum(times)),
    }


# The iris case: PyTorch's typical step is faster but a few of its steps are very slow.
TIMES = {"torch": [0.05] * 5 + [0.001] * 90 + [0.1] * 5, "tensorflow": [0.2] * 5 + [0.00113] * 95}
RSS = {"torch": 100 * 2**20, "tensorflow": 161 * 2**20}


def live(fw: str) -> dict:
    series = Series(warmup=5)
    series.extend(steps_event(TIMES[fw], RSS[fw]))
    return live_figures(series, [], {"version": "1"})


def test_table_rows_agree_and_say_the_direction(dash):
    table = dash.table
    figures = {fw: live(fw) for fw in ("torch", "tensorflow")}
    table.fill(figures, None, [], [], run={"init": "native", "optimizer": "matched"})
    compare = table.columnCount() - 1
    assert table.horizontalHeaderItem(compare).text() == "Comparison"
    assert table.text("Median step (ms)", compare) == "PyTorch 1.13× faster"
    # throughput from the same steps as the median: it cannot say the opposite
    assert table.text("Samples/s", compare) == "PyTorch 1.13× higher throughput"
    assert table.text("Samples/s", 0) == "16,000" and table.text("Samples/s", 1) == "14,159"
    # the mean-based figure, which a few slow steps pull down, is its own labelled row
    assert table.text("Samples/s (total ÷ time)", compare).startswith("TensorFlow/Keras ")
    assert table.text("Peak RSS (MiB)", compare) == "PyTorch 1.61× less memory"
    labels = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    for row, label in enumerate(labels):
        item = table.item(row, compare)
        if item and item.text() and table.columnSpan(row, 0) == 1:
            assert DIRECTION.fullmatch(item.text()), (label, item.text())
    # every row says how it is computed
    samples_row = labels.index("Samples/s")
    assert table.verticalHeaderItem(samples_row).toolTip() == ROW_HELP["samples_per_s"]
    assert "median step time" in table.item(samples_row, 0).toolTip()
    assert (
        "slow steps" in table.verticalHeaderItem(labels.index("Samples/s (total ÷ time)")).toolTip()
    )
    assert table.text("Init", 0) == "native (each framework's own)"
    assert table.text("Optimizer math", 0) == "matched (Keras formulas)"
    assert table.columnSpan(labels.index("Init"), 0) == table.columnCount()
    assert "seed" in table.item(labels.index("Init"), 0).toolTip()


def test_live_figures_match_summary_json():
    """The live table and summary.json compute the same figures from the same steps."""
    for fw in ("torch", "tensorflow"):
        run = FrameworkRun(fw)
        run.steps.update(steps_event(TIMES[fw], RSS[fw]))
        final = framework_summary(run)
        shown = live(fw)
        for key in (
            "step_time_median_s",
            "step_time_p95_s",
            "samples_per_s",
            "samples_per_s_overall",
        ):
            assert shown[key] == pytest.approx(final[key]), (fw, key)


def test_one_framework_has_a_comparison_column_and_no_comparison(dash):
    table = dash.table
    table.set_frameworks(("tensorflow",))
    assert table.columnCount() == 2 and table.horizontalHeaderItem(1).text() == "Comparison"
    table.fill(
        {"tensorflow": live("tensorflow")},
        None,
        [],
        [],
        run={"init": "matched", "optimizer": "native"},
    )
    assert table.text("Median step (ms)", 1) == ""
    assert table.text("Optimizer math", 0) == "native (stock)"
    # a third framework column (Keras on JAX): the comparison moves right and names both
    # sides
    table.set_frameworks(("torch", "tensorflow", "keras-jax"))
    assert table.columnCount() == 4 and table.horizontalHeaderItem(3).text() == "Comparison"
    slow = {**live("tensorflow"), "step_time_median_s": 0.01}
    table.fill(
        {"torch": live("torch"), "tensorflow": live("tensorflow"), "keras-jax": slow},
        None,
        [],
        [],
        run={"init": "matched", "optimizer": "matched"},
    )
    assert table.text("Median step (ms)", 3) == "PyTorch 1.13× faster than TensorFlow/Keras"
    assert (
        table.columnSpan(
            [table.verticalHeaderItem(r).text() for r in range(table.rowCount())].index("Init"), 0
        )
        == 4
    )
    table.set_frameworks(("torch", "tensorflow"))
    assert table.columnCount() == 3


def test_init_and_optimizer_are_separate_choices_that_reach_the_session(dash, qtbot):
    c = dash.controller
    dash.init.setCurrentIndex(dash.init.findData("native"))
    assert dash.chosen().optimizer == "matched"  # native init no longer switches the optimizer
    assert dash.optimizer.itemText(dash.optimizer.currentIndex()) == "Matched optimizer math"
    project = load_project_arg("xor_mlp")
    project.training["epochs"] = 1
    run_dir = c.start(project, dash.chosen(), expected_steps=25)
    assert (c.session.init, c.session.optimizer) == ("native", "matched")
    assert not dash.optimizer.isEnabled() and not dash.init.isEnabled()
    qtbot.waitUntil(lambda: c.summary is not None, timeout=RUN_TIMEOUT_MS)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["init"], summary["optimizer"]) == ("native", "matched")
    assert dash.table.text("Init", 0) == "native (each framework's own)"
    assert dash.table.text("Optimizer math", 0) == "matched (Keras formulas)"
    median, samples = dash.table.text("Median step (ms)", 2), dash.table.text("Samples/s", 2)
    assert DIRECTION.fullmatch(median) and DIRECTION.fullmatch(samples)
    if "about" not in median and "about" not in samples:
        assert median.split("×")[0].rsplit(" ", 1)[0] == samples.split("×")[0].rsplit(" ", 1)[0]
    assert dash.table.text("Peak RSS (MiB)", 2).endswith(("less memory", "about the same"))
    dash.optimizer.setCurrentIndex(dash.optimizer.findData("native"))
    dash.init.setCurrentIndex(dash.init.findData("matched"))
    assert (dash.chosen().init, dash.chosen().optimizer) == ("matched", "native")


def test_the_first_divergent_step_links_only_when_a_pair_parted(dash):
    table = dash.table
    calm = {
        "reference": "torch",
        "max_loss_abs_diff": 1e-7,
        "first_divergent_step": None,
        "pairs": {"tensorflow": {"max_loss_abs_diff": 1e-7, "first_divergent_step": None}},
    }
    table.fill({}, calm, [], [])
    assert table.parted is None
    assert table.text("First divergent step", 0) == "none (within tolerance)"
    asked = []
    table.compare_requested.connect(lambda columns, step: asked.append((columns, step)))
    parted = {
        "reference": "torch",
        "max_loss_abs_diff": 0.5,
        "first_divergent_step": 7,
        "pairs": {
            "tensorflow": {"max_loss_abs_diff": 0.1, "first_divergent_step": 9},
            "keras-jax": {"max_loss_abs_diff": 0.5, "first_divergent_step": 7},
        },
    }
    table.set_frameworks(("torch", "tensorflow", "keras-jax"))
    table.fill({}, parted, [], [])
    labels = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    row = labels.index("First divergent step")
    assert "Compare layers" in table.text("First divergent step", 0)
    assert "Keras on JAX and PyTorch" in table.item(row, 0).toolTip()
    table.cellClicked.emit(row - 1, 0)  # the row above is no link
    assert asked == []
    table.cellClicked.emit(row, 0)
    assert asked == [(("torch", "keras-jax"), 6)]  # the first pair to part, the batch before
