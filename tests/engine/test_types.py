"""mypy over engine/ (the [tool.mypy] section of pyproject.toml) finds no error.

Among other things this checks every backend class against engine.backends.base.Backend
(engine.backends.load_backend returns ``type[Backend]``). The first run takes a minute or two;
mypy's cache (.mypy_cache) makes the next ones take seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_mypy_finds_no_error_in_engine() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=590,
    )
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, f"mypy (exit {proc.returncode}):\n{output}"
