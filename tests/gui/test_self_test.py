"""`twintrain --self-test` unfrozen: the same end-to-end check the packaged app runs on itself
(`make test-package`), here in a fresh interpreter so that the GUI-process check is honest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKS = (
    "window",
    "worker-command",
    "train",
    "losses",
    "parity",
    "run-folder",
    "warm-workers",
    "export",
    "onnx-torch",
    "onnx-tensorflow",
    "onnx-cross-check",
    "gui-process",
    "cleanup",
)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_self_test_passes(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TWINTRAIN_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "gui.launch", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stdout + out.stderr
    for name in CHECKS:
        assert any(line.startswith(f"PASS {name}: ") for line in lines), (
            f"no PASS line for {name}:\n{out.stdout}"
        )
    assert not any(line.startswith("FAIL ") for line in lines)
    assert lines[-1].startswith(f"self-test passed: {len(CHECKS)}/{len(CHECKS)} checks")
    assert list(
        tmp_path.glob("runs/xor-mlp-*/report.html")
    )  # the run went to the given data folder


def test_self_test_reports_a_failure(tmp_path, capsys):
    from gui.self_test import Checks

    checks = Checks()
    assert checks.add("one", True, "fine")
    assert not checks.run("two", lambda: 1 / 0)
    assert not checks.passed
    out = capsys.readouterr().out.splitlines()
    assert out == ["PASS one: fine", "FAIL two: ZeroDivisionError: division by zero"]
