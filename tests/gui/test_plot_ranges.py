"""The dashboard keeps its axis ranges still while a run grows (a moved axis doubles a repaint's
cost), shows all the data at every redraw, and leaves the axes to the user once they zoom."""

from __future__ import annotations

import numpy as np
import pytest

from gui.run.buffers import Series
from gui.run.plots import LivePlots, kept_range


def test_kept_range_moves_only_when_the_data_leaves_or_shrinks_well_inside():
    assert kept_range(None, (0.0, 10.0)) == (-2.5, 12.5)
    assert kept_range((-2.5, 12.5), (1.0, 11.0)) is None  # inside: keep
    assert kept_range((-2.5, 12.5), (1.0, 20.0)) == (
        1.0 - 4.75,
        20.0 + 4.75,
    )  # left it: grow with headroom
    assert kept_range((0.0, 100.0), (10.0, 20.0)) == (7.5, 22.5)  # covers a tenth: narrow
    assert kept_range((0.0, 10.0), (0.0, 8.0), low_headroom=0.0) is None
    assert kept_range((0.0, 10.0), (0.0, 40.0), low_headroom=0.0) == (0.0, 50.0)
    assert kept_range((0.0, 10.0), (5.0, 5.0)) == (
        4.875,
        5.125,
    )  # one value: a small span around it
    assert kept_range((0.0, 1.0), None) is None
    assert kept_range((0.0, 1.0), (float("nan"), 1.0)) is None


def grow(series: dict[str, Series], start: int, n: int) -> None:
    steps = np.arange(start + 1, start + n + 1)
    for s in series.values():
        s.extend(
            {
                "step": list(steps),
                "epoch": [1] * n,
                "loss": list(2.0 * np.exp(-steps / 50) + 0.1),
                "step_time_s": [1e-3] * n,
                "samples": [32] * n,
                "rss_bytes": list(4e8 + steps * 1e6),
                "device_bytes": [None] * n,
                "wall_s": list(steps * 1e-2),
            }
        )


def inside(plot, curve) -> bool:
    (x0, x1), (y0, y1) = plot.viewRange()
    xs, ys = curve.getData()
    return bool(x0 <= xs.min() and xs.max() <= x1 and y0 <= ys.min() and ys.max() <= y1)


@pytest.fixture
def plots(qtbot):
    widget = LivePlots()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    return widget


def test_ranges_stay_still_during_a_run_and_always_show_the_data(plots):
    plots.reset(("torch",), expected_steps=200)
    series = {"torch": Series(capacity=300)}
    loss, memory = plots.plots["loss"], plots.plots["memory"]
    moves = {"x": 0, "memory": 0}
    loss.sigXRangeChanged.connect(lambda *_: moves.__setitem__("x", moves["x"] + 1))
    memory.sigYRangeChanged.connect(lambda *_: moves.__setitem__("memory", moves["memory"] + 1))
    for start in range(0, 200, 10):
        grow(series, start, 10)
        plots.update_from(series, {})
        assert inside(loss, plots.curves[("torch", "loss_raw")])
        assert inside(memory, plots.curves[("torch", "rss")])
    assert loss.viewRange()[0] == pytest.approx(
        [0.0, 204.0]
    )  # the whole run from the first redraw on
    assert moves["x"] == 1  # 20 redraws, one x range
    # memory grows steadily from a tiny span: each move leaves room for a quarter more, so it
    # moves on about half of the redraws early on and then ever more rarely
    assert moves["memory"] <= 12
    for plot in plots.plots.values():
        assert plot.viewRange()[0] == loss.viewRange()[0]  # shared by every plot
    # a run longer than expected: the axis grows with it
    grow(series, 200, 50)
    plots.update_from(series, {})
    assert loss.viewRange()[0][1] >= 250


def test_a_zoom_is_the_users_until_the_auto_button(plots, qtbot):
    plots.reset(("torch",), expected_steps=100)
    series = {"torch": Series(capacity=300)}
    grow(series, 0, 50)
    plots.update_from(series, {})
    loss = plots.plots["loss"]
    loss.vb.scaleBy((0.5, 0.5))  # what the mouse wheel calls...
    loss.vb.sigRangeChangedManually.emit(loss.vb.state["mouseEnabled"])  # ...and says it did
    zoomed = loss.viewRange()
    grow(series, 50, 100)
    plots.update_from(series, {})
    assert loss.viewRange() == zoomed  # new data does not undo the user's zoom
    loss.autoBtnClicked()  # the plot's "A" button
    plots.update_from(series, {})
    assert inside(loss, plots.curves[("torch", "loss_raw")])
    assert not any(loss.vb.autoRangeEnabled())  # back under the kept ranges, not pyqtgraph's


def test_a_wall_time_axis_grows_with_the_run(plots):
    plots.reset(("torch", "tensorflow"), expected_steps=100)
    plots.set_x_mode("wall")
    series = {"torch": Series(capacity=400), "tensorflow": Series(capacity=400)}
    loss = plots.plots["loss"]
    for start in range(0, 300, 30):
        grow(series, start, 30)
        plots.update_from(series, {})
        for fw in series:
            assert inside(loss, plots.curves[(fw, "loss_raw")]), (start, loss.viewRange()[0])
    assert loss.viewRange()[0][1] >= 3.0  # 300 steps of 10 ms: past the step count's hint
