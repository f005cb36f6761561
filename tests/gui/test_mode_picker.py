"""Execution modes in the app: a mode picker beside each runtime's checkbox (every ticked mode a
column of its own), a state line and colour per column, and compile steps starred on the
step-time plot."""

from __future__ import annotations

import numpy as np
import pytest

from engine.events import Compiled
from engine.runtimes import RUNTIMES, colour_of, installed_runtimes, label_of
from tests.gui.test_four_columns import STEPS, feed_run

needs_jax = pytest.mark.skipif(
    "keras-jax" not in installed_runtimes(), reason="Keras on JAX is not installed here"
)


def test_a_picker_per_runtime_shows_its_default_mode(dash):
    assert tuple(dash.mode_pickers) == tuple(RUNTIMES)
    for fw, picker in dash.mode_pickers.items():
        assert picker.text() == RUNTIMES[fw].default_mode
        names = [a.text() for a in picker.menu().actions() if not a.isSeparator()]
        assert names == [m.id for m in RUNTIMES[fw].modes] + ["fastest (probe every mode first)"]
        assert picker.isEnabled() == dash.framework_boxes[fw].isChecked()


def test_ticking_modes_adds_columns_in_the_registrys_order(dash):
    assert dash.checked() == ("torch", "tensorflow")
    torch = dash.mode_pickers["torch"]
    torch.actions_by_mode["compile"].setChecked(True)
    dash.mode_pickers["tensorflow"].actions_by_mode["xla"].setChecked(True)
    assert torch.text() == "eager + compile"
    assert dash.checked() == ("torch", "torch:compile", "tensorflow", "tensorflow:xla")
    options = dash.chosen()
    assert options.frameworks == ("torch", "torch:compile", "tensorflow", "tensorflow:xla")
    assert options.validate() is options
    # The states shown follow the ticks: a line per column, titled with its mode.
    assert dash.shown_status == options.frameworks
    title = dash.status["torch:compile"].title.text()
    assert "PyTorch (compile)" in title and colour_of("torch:compile") in title
    # Compile alone: the default mode's column goes, the other stays.
    torch.actions_by_mode["eager"].setChecked(False)
    assert dash.checked() == ("torch:compile", "tensorflow", "tensorflow:xla")


def test_the_last_mode_cannot_be_unticked(dash):
    picker = dash.mode_pickers["tensorflow"]
    picker.actions_by_mode["graph"].setChecked(False)
    assert picker.modes() == ("graph",) and picker.text() == "graph"
    assert "tensorflow" in dash.checked()


def test_gpu_only_modes_wait_for_a_gpu(dash):
    action = dash.mode_pickers["torch"].actions_by_mode["reduce-overhead"]
    assert not action.isEnabled() and "needs a CUDA GPU" in action.toolTip()
    action.setChecked(True)  # ticked but not offered: no column
    assert "torch:reduce-overhead" not in dash.checked()
    dash.set_gpus(["NVIDIA H200"])
    assert action.isEnabled() and "torch:reduce-overhead" in dash.checked()


def test_a_pickers_runtime_unticked_greys_it_out(dash):
    dash.framework_boxes["tensorflow"].setChecked(False)
    assert not dash.mode_pickers["tensorflow"].isEnabled()
    assert dash.checked() == ("torch",)


def test_compile_steps_are_starred_on_the_step_time_plot(dash, tmp_path, qtbot):
    columns = ("torch", "torch:compile")
    dash.controller.compiles = {fw: [] for fw in columns}
    feed_run(dash, columns, tmp_path)
    c = dash.controller
    c._inbox.append(("torch:compile", Compiled(step=1, graphs=1, step_time_s=5.0)))
    c._inbox.append(("torch:compile", Compiled(step=27, graphs=2, step_time_s=2.5)))
    c._drain()
    plots = dash.plots.widget()  # built now, if the dashboard had not yet
    dash.refresh(force_table=True)
    x, y = plots.curves[("torch:compile", "compile")].getData()
    assert list(x) == [1.0, 27.0]
    assert np.allclose(10 ** np.asarray(y), [5000.0, 2500.0])  # the axis is logarithmic
    x, _ = plots.curves[("torch", "compile")].getData()
    assert x is None or len(x) == 0
    texts = [e.text for e in plots.legend.entries]
    assert "warm-up · compile" in texts and label_of("torch:compile") in texts
    assert len(c.series["torch:compile"]) == STEPS


# ---- fastest ---------------------------------------------------------------------------------


def test_fastest_stands_alone_in_its_runtimes_menu(dash):
    picker = dash.mode_pickers["torch"]
    picker.actions_by_mode["compile"].setChecked(True)
    picker.fastest.setChecked(True)
    assert picker.text() == "fastest" and picker.modes() == ()
    assert dash.checked() == ("torch:fastest", "tensorflow")
    assert dash.chosen().validate().frameworks == ("torch:fastest", "tensorflow")
    picker.actions_by_mode["compile"].setChecked(True)  # a mode by hand: no probe
    assert not picker.fastest.isChecked() and dash.checked()[0] == "torch:compile"
    picker.fastest.setChecked(True)
    picker.fastest.setChecked(False)  # nothing ticked by hand: the default mode again
    assert picker.modes() == ("eager",)


def _start_probe(win):
    """XOR for two epochs with Keras on JAX alone, its mode left to a probe; Train pressed."""
    from PySide6.QtWidgets import QMessageBox

    from engine.presets import preset_path

    win.ask = lambda *_args: QMessageBox.StandardButton.Discard  # the edited epochs, on close
    assert win.open_path(preset_path("xor_mlp"), ask=False)
    win.doc.set_training(("epochs",), 2)
    dash = win.training.dashboard
    for fw, box in dash.framework_boxes.items():
        box.setChecked(fw == "keras-jax")
    dash.mode_pickers["keras-jax"].fastest.setChecked(True)
    assert win.training.train()
    return win.training


@pytest.mark.slow
@pytest.mark.timeout(600)
@needs_jax
def test_fastest_probes_in_the_background_then_trains_the_winner(win, qtbot):
    training = _start_probe(win)
    assert training.probe is not None and not training.act_train.isEnabled()
    assert training.act_stop.isEnabled() and training.locked
    assert not training.train()  # one probe at a time
    c = training.controller
    qtbot.waitUntil(lambda: c.summary is not None, timeout=400_000)
    assert training.probe is None
    probe = c.summary["fastest"]["keras-jax"]
    assert set(probe["tried"]) == {"jit", "eager"} and probe["chosen"] == "jit"
    assert list(c.summary["frameworks"]) == ["keras-jax"]
    assert c.summary["frameworks"]["keras-jax"]["mode"] == "jit"
    table = training.dashboard.table
    cells = [
        table.item(r, col).text()
        for r in range(table.rowCount())
        for col in range(table.columnCount())
        if table.item(r, col) is not None
    ]
    assert any("Fastest Keras on JAX mode (probe): jit:" in t for t in cells), cells


@pytest.mark.slow
@pytest.mark.timeout(600)
@needs_jax
def test_stop_cancels_the_probe_and_trains_nothing(win, qtbot):
    training = _start_probe(win)
    training.stop()
    qtbot.waitUntil(lambda: training.probe is None, timeout=120_000)
    assert training.controller.session is None  # no run started
    assert training.act_train.isEnabled() and not training.locked
    assert "Probe stopped" in win.statusBar().currentMessage()
