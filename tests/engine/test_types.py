"""mypy over engine/ and gui/ (the [tool.mypy] section of pyproject.toml) finds no error;
without PySide6 (the headless tier) over engine/ alone.

Among other things this checks every backend class against engine.backends.base.Backend
(engine.backends.load_backend returns ``type[Backend]``). The first run takes a minute or two;
mypy's cache (.mypy_cache) makes the next ones take seconds.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_mypy_finds_no_error_in_engine_and_gui() -> None:
    pytest.importorskip("mypy")
    # gui/ is checked against PySide6's stubs, which a server without Qt does not have
    targets = [] if importlib.util.find_spec("PySide6") else ["engine"]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=590,
    )
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, f"mypy (exit {proc.returncode}):\n{output}"
