"""`twintrain` follows terminal conventions: results on stdout, progress on stderr (plain lines
when stderr is not a terminal), --json for machines, typos refused, no Qt abort without a screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gui.display import display_problem
from gui.launch import unknown_target

TWINTRAIN = Path(sys.executable).with_name("twintrain")


def _run(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TWINTRAIN), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env or dict(os.environ),
        cwd=cwd,
    )


def test_train_prints_the_table_on_stdout_and_plain_progress_on_stderr(tmp_path):
    proc = _run(["train", "iris_logreg", "--epochs", "2", "--out", str(tmp_path / "run")])
    assert proc.returncode == 0, proc.stderr
    out, err = proc.stdout, proc.stderr
    assert (
        "Median step (ms)" in out
        and "Parity: max |loss diff|" in out
        and f"Run folder: {tmp_path / 'run'}" in out
    )
    assert "Median step" not in err
    lines = err.splitlines()
    for label in ("PyTorch", "TensorFlow/Keras"):
        assert any(line.startswith(f"{label}: epoch 2/2, train loss ") for line in lines), err
    assert "\r" not in err and "step/s" not in err  # no progress bar when stderr is a file
    # the timing note names the optimizer that ran (iris_logreg: SGD) and the figure measured for it
    note = next(line for line in out.splitlines() if line.startswith("Note: PyTorch ran"))
    assert "Keras-formula SGD" in note and "torch.optim.SGD" in note and "within 2%" in note


def test_train_json_prints_the_summary_and_only_it(tmp_path):
    proc = _run(
        [
            "train",
            "xor_mlp",
            "--epochs",
            "1",
            "--frameworks",
            "torch",
            "--out",
            str(tmp_path / "r"),
            "--json",
            "--quiet",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary == json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["frameworks"]["torch"]["steps"] == 25
    assert "Keras-formula Adam" in summary["notes"][0] and "about 15% faster" in summary["notes"][0]
    assert proc.stderr.strip().splitlines()[-1].startswith("Run folder: ")


def test_a_mistyped_command_is_refused_with_a_suggestion():
    proc = _run(["trian", "xor_mlp"])
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "twintrain: unknown command or project 'trian' (did you mean 'train'?)"
    )
    assert (
        unknown_target(["digts_cnn"])
        == "unknown command or project 'digts_cnn' (did you mean 'digits_cnn'?)"
    )
    assert unknown_target(["--verbose"]) == "unknown option '--verbose' (see twintrain --help)"
    assert unknown_target(["xor_mlp"]) is None and unknown_target([]) is None


def test_without_a_display_the_app_says_so_in_one_line(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    for args in ([], ["xor_mlp"]):
        proc = _run(args, env=env, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "twintrain: no display available (DISPLAY is not set)"
        )
        assert (
            "QT_QPA_PLATFORM=offscreen" in lines[0] and "twintrain check, train, export" in lines[0]
        )
    env["DISPLAY"] = ":93"
    proc = _run(["xor_mlp"], env=env)
    assert proc.returncode == 1 and "cannot connect to the X server at DISPLAY=:93" in proc.stderr


def test_display_problem_respects_a_platform_chosen_by_the_user():
    if not sys.platform.startswith("linux"):
        return
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({}) == "no display available (DISPLAY is not set)"
    assert "WAYLAND_DISPLAY" in display_problem({"QT_QPA_PLATFORM": "wayland"})
    missing = display_problem({"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": "/nonexistent"})
    assert missing == "no display available (no Wayland socket at /nonexistent/wayland-9)"
