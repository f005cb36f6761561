"""engine/run_options.py: one plain object for a run's choices, built by the CLI and the app."""

from __future__ import annotations

import math
import re

import pytest

from engine.cli import _parser
from engine.defaults import HANG_TIMEOUT_S
from engine.run_options import CLI_FLAGS, RunOptions, RunOptionsError, default_schedule
from engine.spec.errors import SpecError


def _args(*flags: str):
    return _parser().parse_args(["train", "xor_mlp", *flags])


def test_defaults():
    options = RunOptions()
    assert options.frameworks == ("torch", "tensorflow")
    assert (options.device, options.schedule, options.init, options.optimizer) == (
        "auto",
        None,
        "matched",
        None,
    )
    assert options.epochs is None and options.max_memory_mb is None
    assert options.hang_timeout_s == HANG_TIMEOUT_S and options.export_formats == ()
    assert options.validate() is options
    assert RunOptions.from_args(_args()) == options


def test_resolved_fills_the_schedule_by_the_one_rule_and_the_optimizer_from_init():
    assert RunOptions().resolved(has_gpu=False).schedule == "parallel"
    assert RunOptions().resolved(has_gpu=True).schedule == "alternate"
    assert RunOptions(device="cpu").resolved(has_gpu=True).schedule == "parallel"
    assert RunOptions(device="cuda").resolved(has_gpu=False).schedule == "alternate"
    assert RunOptions(schedule="sequential").resolved(has_gpu=True).schedule == "sequential"
    assert default_schedule("cpu") == "parallel" and default_schedule("cuda") == "alternate"
    assert RunOptions(init="native").resolved(has_gpu=False).optimizer == "native"
    assert RunOptions(init="native", optimizer="matched").resolved().optimizer == "matched"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"frameworks": ()}, "frameworks", "frameworks takes one or more of torch, tensorflow"),
        ({"frameworks": ("jx",)}, "frameworks", "unknown framework 'jx'"),
        ({"device": "tpu"}, "device", "device must be one of auto, cpu, cuda, got 'tpu'"),
        ({"schedule": "random"}, "schedule", "schedule must be one of parallel, alternate"),
        ({"init": "zeros"}, "init", "init must be one of matched, native, got 'zeros'"),
        ({"optimizer": "sgd"}, "optimizer", "optimizer must be one of matched, native"),
        ({"epochs": 0}, "epochs", "epochs must be at least 1, got 0"),
        ({"max_memory_mb": 10}, "max_memory_mb", "max_memory_mb must be at least 64 (MB)"),
        ({"max_memory_mb": math.nan}, "max_memory_mb", "got nan"),
        ({"hang_timeout_s": 1}, "hang_timeout_s", "hang_timeout_s must be at least 5 (seconds)"),
        ({"hang_timeout_s": math.inf}, "hang_timeout_s", "got inf"),
        ({"export_formats": ("gif",)}, "export_formats", "unknown format 'gif'"),
    ],
)
def test_validation_names_the_field(changes, field, message):
    options = RunOptions(**changes)
    with pytest.raises(RunOptionsError) as caught:
        options.validate()
    assert caught.value.option == field and message in str(caught.value)
    assert isinstance(caught.value, SpecError)  # the CLI prints it as one line, exit code 1
    with pytest.raises(RunOptionsError, match=CLI_FLAGS[field]):
        options.validate(CLI_FLAGS)
    with pytest.raises(RunOptionsError):
        options.session_kwargs()  # the engine refuses it before any worker starts


def test_every_problem_is_listed():
    fields = [f for f, _ in RunOptions(device="x", epochs=-1, hang_timeout_s=0).problems()]
    assert fields == ["hang_timeout_s", "epochs", "device"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--frameworks", "torch,kras-jax"], "--frameworks takes one or more of torch, tensorflow"),
        (["--frameworks", "torch,kras-jax"], "(did you mean 'keras-jax'?)"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--max-memory", "10"], "--max-memory must be at least 64 (MB), got 10"),
        (["--hang-timeout", "1"], "--hang-timeout must be at least 5 (seconds), got 1"),
        (["--export", "gif"], "unknown export format 'gif'"),
    ],
)
def test_cli_messages_name_the_flag(flags, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        RunOptions.from_args(_args(*flags))


def test_cli_flags_become_options_and_session_arguments(tmp_path):
    options = RunOptions.from_args(
        _args(
            "--frameworks",
            "tensorflow",
            "--device",
            "cpu",
            "--schedule",
            "sequential",
            "--init",
            "native",
            "--epochs",
            "3",
            "--max-memory",
            "512",
            "--hang-timeout",
            "30",
            "--export",
            "onnx,keras",
        )
    )
    assert options == RunOptions(
        frameworks=("tensorflow",),
        device="cpu",
        schedule="sequential",
        init="native",
        epochs=3,
        max_memory_mb=512,
        hang_timeout_s=30,
        export_formats=("onnx", "keras"),  # canonical order
    )
    kwargs = options.session_kwargs(tmp_path / "models")
    assert kwargs["rss_cap_bytes"] == 512 * 2**20 and kwargs["hang_timeout_s"] == 30.0
    assert kwargs["export"] == {"formats": ["onnx", "keras"], "dir": str(tmp_path / "models")}
    assert kwargs["optimizer"] is None  # the session lets it follow init, as before
    assert options.session_kwargs()["export"] is None  # no folder given: nothing to export to


@pytest.mark.qt
def test_the_dashboard_and_the_cli_build_equal_options(request):
    """The same choices made in the app and on the command line are the same options."""
    pytest.importorskip("PySide6")
    pytest.importorskip("pytestqt")
    qtbot = request.getfixturevalue("qtbot")
    from gui.run.controller import RunController
    from gui.run.dashboard import Dashboard
    from gui.run.limits import Limits

    dash = Dashboard(RunController())
    qtbot.addWidget(dash)
    dash.set_gpus([])
    cli = RunOptions.from_args(_args()).resolved(has_gpu=False)
    assert dash.chosen(Limits()) == cli and dash.chosen() == cli

    dash.framework_boxes["torch"].setChecked(False)
    dash.device.setCurrentIndex(dash.device.findData("cpu"))
    dash.schedule.setCurrentIndex(dash.schedule.findData("alternate"))
    dash.init.setCurrentIndex(dash.init.findData("native"))
    dash.optimizer.setCurrentIndex(dash.optimizer.findData("matched"))
    dash.export_models.setChecked(True)
    flags = ["--frameworks", "tensorflow", "--device", "cpu", "--schedule", "alternate"]
    flags += ["--init", "native", "--optimizer", "matched", "--export", "all"]
    flags += ["--max-memory", "2048", "--hang-timeout", "30"]
    chosen = dash.chosen(Limits(max_memory_mb=2048, hang_timeout_s=30))
    assert chosen == RunOptions.from_args(_args(*flags)).resolved(has_gpu=False)
    assert chosen.validate() is chosen

    dash.schedule.setCurrentIndex(dash.schedule.findData(None))  # Default: by the GPUs found
    dash.device.setCurrentIndex(dash.device.findData("auto"))
    dash.set_gpus(["NVIDIA Test GPU"])
    assert dash.chosen().schedule == "alternate" == RunOptions().resolved(has_gpu=True).schedule
