"""Workers never import from the folder the user runs TwinTrain in (engine.child_process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from shadowing import shadowing_folder, shadowing_markers

from engine.child_process import child_cwd, relaunch_command
from engine.run_folder import finalize_command
from engine.worker_pool import worker_command

# what a worker process imports from where it starts (tests/served_workers.py)
pytestmark = pytest.mark.fresh_workers

TWINTRAIN = Path(sys.executable).with_name("twintrain")


def test_a_cli_run_from_a_folder_of_shadowing_modules_imports_none(tmp_path):
    folder = shadowing_folder(tmp_path / "project folder")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [str(TWINTRAIN), "train", "xor_mlp", "--epochs", "1", "--out", "run", "--json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert shadowing_markers(folder) == []
    summary = json.loads(proc.stdout)
    for fw in ("torch", "tensorflow"):
        assert "error" not in summary["frameworks"][fw], summary["frameworks"][fw]
        assert summary["frameworks"][fw]["steps"] == 25
    assert summary["parity"]["max_loss_abs_diff"] < 1e-5
    assert (folder / "run" / "summary.json").is_file()  # the relative --out is the user's folder


def test_every_child_runs_in_twintrains_own_folder():
    assert (Path(child_cwd()) / "engine" / "worker.py").is_file()
    assert worker_command("torch") == [sys.executable, "-m", "engine.worker", "torch"]
    assert relaunch_command("engine.cli", []) == [sys.executable, "-m", "engine.cli"]
    cmd = finalize_command("runs/x")
    assert cmd[:3] == [sys.executable, "-m", "engine.run_folder"] and os.path.isabs(cmd[3])
