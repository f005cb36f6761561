"""A 1280x800 screen: the window fits it with both docks open, the dashboard's options wrap
instead of widening the window, a narrow dashboard shows plots and table as tabs, and long
texts are elided with the whole text kept."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QLabel, QPushButton, QWidget

from gui.elided_label import ElidedLabel
from gui.flow_layout import FlowLayout


def test_the_window_fits_1280_by_800_with_both_docks(win):
    assert win.minimumSizeHint().width() <= 1280
    assert win.width() == 1280  # not pushed wider by the dashboard
    docks = {d.windowTitle(): d.width() for d in win.findChildren(QDockWidget)}
    assert docks["Layers"] >= 150 and docks["Inspector"] >= 250, (
        docks
    )  # not squeezed to their minimum


def test_a_narrow_dashboard_shows_plots_and_table_as_tabs(dash, qtbot):
    qtbot.waitUntil(lambda: dash.split.isVisible())
    assert (
        dash.plots.parent() is dash.split
        and dash.table.parent() is dash.split
        and not dash.tabs.isVisible()
    )
    dash.resize(740, 600)
    qtbot.waitUntil(lambda: dash.tabs.isVisible())
    assert not dash.split.isVisible() and dash.tabs.count() == 2
    assert [dash.tabs.tabText(i) for i in range(2)] == ["Charts", "Summary"]
    dash.tabs.setCurrentIndex(1)
    assert dash.table.isVisible() and not dash.plots.isVisible()
    dash.resize(1200, 600)  # back to side by side, both shown
    qtbot.waitUntil(lambda: dash.split.isVisible())
    assert dash.tabs.count() == 0 and dash.plots.isVisible() and dash.table.isVisible()
    assert dash.split.indexOf(dash.plots) == 0 and dash.split.indexOf(dash.table) == 1


def test_flow_layout_wraps_instead_of_widening(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    flow = FlowLayout(host)
    buttons = [QPushButton(f"option number {i}") for i in range(6)]
    for b in buttons:
        flow.addWidget(b)
    one_row = flow.sizeHint()
    assert flow.minimumSize().width() <= max(b.sizeHint().width() for b in buttons)
    assert flow.heightForWidth(one_row.width()) == one_row.height()
    assert flow.heightForWidth(one_row.width() // 2) > one_row.height()  # two rows or more
    host.resize(one_row.width() // 2, flow.heightForWidth(one_row.width() // 2))
    host.show()
    qtbot.waitExposed(host)
    rows = sorted({b.y() for b in buttons})
    assert len(rows) >= 2 and all(b.geometry().right() <= host.width() for b in buttons)


def test_elided_label_keeps_its_whole_text(qtbot):
    path = "Run folder: …/runs/" + "a-very-long-run-folder-name-" * 4
    label = ElidedLabel(path)
    qtbot.addWidget(label)
    label.resize(120, 20)
    label.show()
    qtbot.waitExposed(label)
    shown = QLabel.text(label)
    assert label.text() == path and shown != path and "…" in shown
    assert label.toolTip() == path  # the whole text on hover
    assert (
        label.minimumSizeHint().width() < 120
        or label.sizePolicy().horizontalPolicy().name == "Ignored"
    )
    label.resize(2000, 20)
    qtbot.waitUntil(lambda: QLabel.text(label) == path)
    assert label.toolTip() == ""  # nothing hidden, no tooltip needed
