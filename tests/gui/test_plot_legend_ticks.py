"""The dashboard's legend never covers a curve and its entries never overlap, for two columns
and for more (Keras on JAX, compiled modes...) with overlaid runs; no two tick labels of a left
axis overlap, on log axes, on short plots and on empty ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtGui import QFontMetricsF

from engine.runtimes import RUNTIMES, colour_of
from gui.run.buffers import Series
from gui.run.plots import PLOTS, LivePlots

FOUR = tuple(RUNTIMES)  # every registered runtime
FIVE = (*RUNTIMES, "torch_compiled")  # and a column beyond the registry (a compiled mode)


def fill(plots: LivePlots, columns, n: int = 200) -> dict[str, Series]:
    series = {}
    steps = np.arange(1, n + 1)
    for i, fw in enumerate(columns):
        s = Series(capacity=n + 10)
        s.extend(
            {
                "step": list(steps),
                "epoch": [1] * n,
                "loss": list(0.7 * np.exp(-steps / 80) + 0.25 + 0.01 * i),
                "step_time_s": [1e-3 * (1 + i)] * n,
                "samples": [32] * n,
                "rss_bytes": list(4e8 + steps * 1e5),
                "device_bytes": [None] * n,
                "wall_s": list(steps * 1e-2),
            }
        )
        series[fw] = s
    plots.update_from(
        series, {fw: [{"steps": n, "val_loss": 0.3, "val_accuracy": 0.9}] for fw in columns}
    )
    return series


@pytest.fixture
def plots(qtbot):
    widget = LivePlots()
    qtbot.addWidget(widget)
    widget.resize(760, 420)  # the Charts tab of a 1280x800 window with the canvas kept usable
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def settle(qtbot, plots) -> None:
    for _ in range(3):
        qtbot.wait(20)
        plots.ci.layout.activate()


def overlap(a, b) -> bool:
    return a.intersected(b).width() > 0.5 and a.intersected(b).height() > 0.5


@pytest.mark.parametrize("size", [(760, 600), (760, 420), (760, 250)])  # tall, wide, short
@pytest.mark.parametrize("columns", [("torch", "tensorflow"), FOUR, FIVE])
def test_the_legend_is_outside_every_plot_and_its_entries_do_not_overlap(
    plots, qtbot, columns, size
):
    plots.resize(*size)
    plots.reset(columns, expected_steps=200)
    fill(plots, columns)
    earlier = {fw: (np.arange(1, 201), np.linspace(0.9, 0.3, 200)) for fw in columns}
    plots.set_overlays([("xor_mlp-20261203-101010-000001", earlier)])
    settle(qtbot, plots)
    legend = plots.legend
    texts = [e.text for e in legend.entries]
    for text in (
        "PyTorch",
        "TensorFlow/Keras",
        "validation · GPU mem",
        "run xor_mlp-20261203-101010-000001",
    ):
        assert text in texts
    # TensorFlow's graph mode traces: the compile star shares the warm-up's entry
    compiling = "tensorflow" in columns
    assert ("warm-up · compile" if compiling else "warm-up") in texts
    assert len(legend.entries) == len(columns) + 4 + 1
    colours = [e.pen.color().name().upper() for e in legend.entries[: len(columns)]]
    assert colours == [colour_of(fw).upper() for fw in columns]  # the registry's
    assert len(set(colours)) == len(columns)  # one each
    rect = legend.sceneBoundingRect()
    view = plots.sceneRect()
    for entry in legend.entries:
        r = entry.sceneBoundingRect()
        assert rect.contains(r.adjusted(1, 1, -1, -1)), (
            entry.text,
            r,
            rect,
        )  # inside the legend: not clipped
        assert view.contains(r), (
            entry.text,
            r,
            view,
        )  # inside the widget: nothing cut off at an edge
    for name in PLOTS:
        assert not overlap(rect, plots.plots[name].vb.sceneBoundingRect()), name
    for a, b in itertools.combinations(legend.entries, 2):
        assert not overlap(a.sceneBoundingRect(), b.sceneBoundingRect()), (a.text, b.text)


def label_rects(axis):
    """The left axis's tick labels as pyqtgraph lays them out: values from the axis's own
    tickValues at its real height, text from its tickStrings, one line of its font tall."""
    lo, hi = axis.range
    size = axis.geometry().height()
    metrics = QFontMetricsF(axis.style["tickFont"] or axis.font())
    rects = []
    for spacing, values in axis.tickValues(lo, hi, size):
        strings = axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
        for v, text in zip(values, strings):
            if not text:
                continue
            y = (hi - v) / (hi - lo) * size
            rects.append((text, y - metrics.height() / 2, y + metrics.height() / 2))
    return rects


def assert_labels_apart(plots) -> None:
    for name in PLOTS:
        rects = sorted(label_rects(plots.plots[name].getAxis("left")), key=lambda r: r[1])
        for (t1, _, bottom), (t2, top, _) in itertools.pairwise(rects):
            assert bottom <= top, f"{name}: '{t1}' and '{t2}' overlap"


@pytest.mark.parametrize("height", [250, 300, 420, 700])
def test_tick_labels_never_overlap_with_log_loss(plots, qtbot, height):
    plots.resize(760, height)
    plots.reset(("torch", "tensorflow"), expected_steps=200)
    fill(plots, ("torch", "tensorflow"))
    plots.set_log_loss(True)
    settle(qtbot, plots)
    lo, hi = plots.plots["loss"].getAxis("left").range
    assert hi - lo < 1  # loss 0.25..0.95: less than a decade, where every minor tick got a label
    axis = plots.plots["loss"].getAxis("left")
    labels = [t for t, _, _ in label_rects(axis)]
    assert len(labels) >= (2 if axis.geometry().height() >= 80 else 1)
    assert_labels_apart(plots)


def test_tick_labels_never_overlap_on_an_empty_plot_after_a_restart(plots, qtbot):
    plots.reset(("torch", "tensorflow"), expected_steps=200)
    fill(plots, ("torch", "tensorflow"))
    plots.reset(("torch", "tensorflow"), expected_steps=200)  # Train again: no points yet
    plots.update_from({}, {})
    settle(qtbot, plots)
    assert_labels_apart(plots)
    plots.set_log_loss(True)
    settle(qtbot, plots)
    assert_labels_apart(plots)


def test_log_ticks_label_decades_on_a_wide_range():
    from gui.run.plots import TickAxis

    ticks = TickAxis.log_ticks(-3.2, 2.1, 120)  # 5 decades in 120 px
    assert set(ticks) <= {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0}
    assert len(ticks) >= 2
    fine = TickAxis.log_ticks(-1.0, 0.0, 600)  # one decade, plenty of room: 0.1, 0.2, ... 1
    assert len(fine) == 10


def test_a_low_dashboard_shows_the_loss_and_one_chosen_plot_at_full_height(plots, qtbot):
    """Two rows of five plots in the Charts tab of a 1280x800 window left each small plot about
    37 px of data: too little to read. Low, the loss and one plot (the user's choice) share
    the whole height; wide and higher, all five in two rows; higher still, stacked."""
    plots.reset(("torch", "tensorflow"), expected_steps=200)
    fill(plots, ("torch", "tensorflow"))
    seen = []
    plots.arrangement_changed.connect(seen.append)
    plots.resize(760, 250)  # the Charts tab of a 1280x800 window with the canvas kept at 300 px
    settle(qtbot, plots)
    assert plots.arrangement == "short" and seen == ["short"]
    shown = {n for n in PLOTS if plots.plots[n].isVisible()}
    assert shown == {"loss", "step_time"}
    for name in shown:
        assert plots.plots[name].vb.sceneBoundingRect().height() >= 110, name
    assert plots.plots["loss"].vb.sceneBoundingRect().width() >= 250
    assert_labels_apart(plots)
    plots.set_detail("accuracy")
    settle(qtbot, plots)
    assert {n for n in PLOTS if plots.plots[n].isVisible()} == {"loss", "accuracy"}
    assert plots.plots["accuracy"].vb.sceneBoundingRect().height() >= 110
    assert plots.plots["accuracy"].getAxis("bottom").labelText == "step"
    with pytest.raises(ValueError, match="beside the loss"):
        plots.set_detail("loss")
    plots.resize(1100, 400)
    settle(qtbot, plots)
    assert plots.arrangement == "wide"
    assert all(plots.plots[n].isVisible() for n in PLOTS)
    for name in PLOTS:
        assert plots.plots[name].vb.sceneBoundingRect().height() >= 90, name
    plots.resize(760, 600)
    settle(qtbot, plots)
    assert plots.arrangement == "tall" and seen == ["short", "wide", "tall"]
    assert plots.plots["loss"].vb.sceneBoundingRect().width() > 600
    plots.resize(560, 400)  # beside the summary table on a 1920x1080 screen: not five tiny plots
    settle(qtbot, plots)
    assert plots.arrangement == "short" and seen[-1] == "short"


def test_the_arrangement_keeps_plots_readable_at_every_size():
    from gui.run.plots import arrangement_for

    assert arrangement_for(760, 250) == "short"  # Charts tab, 1280x800
    assert arrangement_for(560, 400) == "short"  # beside the table, 1920x1080
    assert arrangement_for(1100, 400) == "wide"
    assert arrangement_for(760, 420) == "wide"
    assert arrangement_for(760, 600) == "tall"


def test_a_short_log_plot_keeps_its_range_around_the_data(plots, qtbot):
    """The pixel padding of symbols (warm-up crosses) once grew a short step-time axis at every
    redraw until it spanned ten decades, with a label every fifth one."""
    plots.resize(760, 250)
    plots.reset(("torch", "tensorflow"), expected_steps=200)
    series = fill(plots, ("torch", "tensorflow"))  # step times 1 ms and 2 ms: 0.3 decades
    for _ in range(30):
        plots.update_from(series, {})
        qtbot.wait(1)
    lo, hi = plots.plots["step_time"].vb.viewRange()[1]
    assert lo <= 0.0 and hi >= np.log10(2.0)
    assert hi - lo < 1.0
