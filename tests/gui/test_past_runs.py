"""Past runs in the Runs panel after a restart: summary, charts, report, rename, delete, compare;
two-line entries that say what distinguishes runs; another project clears the dashboard.

Two real runs (matched and native init) are trained once by `twintrain train` in a child
process, then copied into each test's data folder, as if left there by an earlier session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QInputDialog, QMessageBox

from engine.presets import preset_path
from engine.run_folder import run_stem
from tests.in_process_cli import twintrain

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("my-20261203-161523-000001", "my-20261203-171002-000002")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("trained")
    project = json.loads(Path(preset_path("xor_mlp")).read_text())
    project["name"] = "untitled"  # the file's name, not this, must name the run
    (base / "my.twintrain.json").write_text(json.dumps(project))
    for name, init in zip(NAMES, ("matched", "native")):
        done = twintrain(
            "train",
            str(base / "my.twintrain.json"),
            "--epochs",
            "2",
            "--init",
            init,
            "--out",
            str(base / name),
            "--quiet",
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return base


@pytest.fixture
def runs(trained, data_dir, win) -> list[Path]:
    """The two runs in this test's runs folder, newest first, listed by the panel."""
    root = data_dir / "runs"
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for name in NAMES:
        shutil.copytree(trained / name, root / name)
        out.append(root / name)
    import os

    os.utime(out[0], (1, 1))  # the matched run older: listed second
    win.training.runs.refresh()
    return out[::-1]


def item_text(panel, folder: Path) -> tuple[str, str]:
    for i in range(panel.list.count()):
        item = panel.list.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == str(folder):
            return item.text(), item.toolTip()
    raise AssertionError(folder)


def test_a_past_run_shows_its_summary_charts_and_report(gui, win, runs, qtbot):
    ui = win.training
    native, matched = runs
    assert ui.runs.folders() == runs
    assert not ui.dashboard.report_button.isEnabled()
    ui.runs.select([matched])
    dash = ui.dashboard
    summary = json.loads((matched / "summary.json").read_text())
    for col, fw in enumerate(("torch", "tensorflow")):
        xs, _ys = dash.plots.curves[(fw, "loss")].getData()
        assert len(xs) == summary["frameworks"][fw]["steps"] == 50
        assert len(dash.plots.curves[(fw, "val_loss")].getData()[0]) == 2
        assert dash.table.text("Steps", col) == "50"
        assert (
            dash.table.text("Median step (ms)", col)
            == f"{summary['frameworks'][fw]['step_time_median_s'] * 1e3:.3f}"
        )
    assert dash.table.text("Max |loss diff|", 0) == f"{summary['parity']['max_loss_abs_diff']:.3g}"
    assert dash.report_button.isEnabled()
    assert "my" in dash.info.text() and "2026-12-03 16:15:23" in dash.info.text()

    opened: list[str] = []

    class Catcher(QObject):
        @Slot(QUrl)
        def open(self, url):
            opened.append(url.toLocalFile())

    catcher = Catcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        dash.report_button.click()
        menu = ui.runs.context_menu()
        actions = {a.text().replace("&", ""): a for a in menu.actions() if a.text()}
        assert not actions["Compare"].isEnabled()
        actions["Open Report"].trigger()
        actions["Open Folder"].trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened == [str(matched / "report.html")] * 2 + [str(matched)]

    # another selected run: its loss overlaid, labelled by what differs
    ui.runs.select([matched, native])
    assert len(dash.plots.overlays) == 2  # its two frameworks
    labels = [e.text for e in dash.plots.legend.entries if "my 17:10" in e.text]
    assert len(labels) == 1 and "native init" in labels[0], [
        e.text for e in dash.plots.legend.entries
    ]


def test_entries_name_the_file_and_the_settings_that_differ(gui, win, runs):
    native, matched = runs
    text, tip = item_text(win.training.runs, native)
    first, second = text.split("\n")
    assert first == "my · 2026-12-03 17:10:02"  # the file's name, not the project's "untitled"
    assert "native init" in second and "native optimizer" in second and "PyTorch + TF" in second
    assert "parallel" in second and "cpu" in second
    assert str(native) in tip and "Init: native init" in tip
    assert "matched init" in item_text(win.training.runs, matched)[0]
    lst = win.training.runs.list
    assert lst.wordWrap() and lst.textElideMode() == Qt.TextElideMode.ElideNone
    rect = lst.visualItemRect(lst.item(0))
    assert rect.height() >= 2 * lst.fontMetrics().height()  # both lines shown


def test_compare_puts_each_run_framework_in_its_own_column(gui, win, runs):
    ui = win.training
    native, matched = runs
    ui.runs.select([matched, native])
    menu = ui.runs.context_menu()
    compare = next(a for a in menu.actions() if a.text().replace("&", "") == "Compare")
    assert compare.isEnabled()
    compare.trigger()
    table = ui.dashboard.table
    assert table.columnCount() == 5  # a column per run and framework, then "Best"
    headers = [table.horizontalHeaderItem(c).text() for c in range(5)]
    assert headers[4] == "Best"
    assert headers[0].split("\n") == ["my 16:15", "matched init", "matched optimizer", "PyTorch"]
    assert headers[3].split("\n") == ["my 17:10", "native init", "native optimizer", "TensorFlow"]
    assert all(
        table.columnWidth(c)
        >= table.horizontalHeader().fontMetrics().horizontalAdvance("matched optimizer")
        for c in range(4)
    )  # the headers are not cut
    medians = []
    for col, (folder, fw) in enumerate(
        [(matched, "torch"), (matched, "tensorflow"), (native, "torch"), (native, "tensorflow")]
    ):
        figures = json.loads((folder / "summary.json").read_text())["frameworks"][fw]
        assert table.text("Median step (ms)", col) == f"{figures['step_time_median_s'] * 1e3:.3f}"
        medians.append(figures["step_time_median_s"])
    # the fastest of the four columns is marked, and "Best" says which and by how much
    row = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())].index(
        "Median step (ms)"
    )
    fastest = medians.index(min(medians))
    ranked = sorted(medians)
    if ranked[1] / ranked[0] >= 1.005:
        assert [table.item(row, c).font().bold() for c in range(4)] == [
            c == fastest for c in range(4)
        ]
        best = table.text("Median step (ms)", 4)
        framework = ("PyTorch", "TensorFlow")[fastest % 2]
        assert framework in best.split(" faster")[0] and " faster than " in best, best
        assert f"{ranked[1] / ranked[0]:.2f}×" in best
    assert (
        table.columnSpan(table.rowCount() - 4, 2) == 2
    )  # each run's parity across its own columns
    # selecting one run again gives the table its own layout back
    ui.runs.select([native])
    assert table.columnCount() == 3 and table.horizontalHeaderItem(0).text() == "PyTorch"


def test_rename_stores_a_name_and_delete_goes_to_the_trash(
    gui, win, runs, qtbot, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    panel = win.training.runs
    native, matched = runs
    panel.select([native])
    dialog = panel.ask_rename(native)
    assert isinstance(dialog, QInputDialog) and dialog.textValue() == "my"
    dialog.setTextValue("wide  batch\ntry")
    dialog.accept()
    assert json.loads((native / "run.json").read_text()) == {"name": "wide batch try"}
    assert native.is_dir() and item_text(panel, native)[0].startswith("wide batch try · ")

    gui.answers = [QMessageBox.StandardButton.Cancel]
    assert panel.delete([native]) == [] and native.is_dir()
    gui.answers = [QMessageBox.StandardButton.Yes]
    assert panel.delete([native]) == [native]
    assert "wide batch try" in gui.questions[-1]
    assert not native.exists() and panel.folders() == [matched]
    trashed = list((tmp_path / "xdg" / "Trash" / "files").iterdir())
    assert [p.name for p in trashed] == [native.name] and (trashed[0] / "summary.json").is_file()
    assert panel.delete([tmp_path]) == []  # outside the runs folder: never


def test_opening_another_project_clears_the_summary(gui, win, runs, preset_copy):
    ui = win.training
    native, _matched = runs
    ui.runs.select([native])
    assert ui.dashboard.table.text("Steps", 0) == "50"
    assert win.open_path(preset_copy("moons_mlp"), ask=False)
    assert ui.dashboard.table.text("Steps", 0) == ""
    assert not ui.dashboard.report_button.isEnabled()
    assert ui.dashboard.plots.curves == {} and ui.runs.selected() == []
    ui.dashboard.x_axis.setCurrentIndex(1)  # a redraw does not bring the old run back
    assert ui.dashboard.table.text("Steps", 0) == ""


def test_run_stem_is_the_file_name():
    assert run_stem("untitled", Path("/x/my.twintrain.json")) == "my"


def test_exported_charts_carry_the_overlaid_runs(gui, win, runs, qtbot, tmp_path):
    """Export charts… draws what the dashboard shows: the runs overlaid on the loss plot are on
    loss.png/svg too, labelled as in the legend, and their smoothed loss is in loss.csv."""
    ui = win.training
    native, matched = runs
    ui.runs.select([matched, native])
    dash = ui.dashboard
    assert [f for _label, f in dash.overlay_runs] == [native]
    label = dash.overlay_runs[0][0]
    out = tmp_path / "charts"
    assert dash.export_to(out)
    with qtbot.waitSignal(dash.chart_exporter.finished, timeout=120_000) as done:
        pass
    assert done.args[0] is True, done.args
    rows = (out / "loss.csv").read_text().splitlines()
    overlay_rows = [r for r in rows if f"loss_smooth@{label}" in r]
    assert {r.split(",")[0] for r in overlay_rows} == {"torch", "tensorflow"}
    steps = json.loads((native / "summary.json").read_text())["frameworks"]["torch"]["steps"]
    assert len([r for r in overlay_rows if r.startswith("torch,")]) == steps
    svg = (out / "loss.svg").read_text()
    assert f"run {label}" in svg  # in the legend (matplotlib keeps SVG text as text)
    assert "run " not in (out / "step_time.svg").read_text()  # only the loss is overlaid
    ui.runs.select([native])  # one run alone: nothing overlaid any more
    assert dash.overlay_runs == []
