"""`make test-headless` proves what it claims: its venv has no Qt, and the engine and the CLI
entry point import and run there (the rest of tests/engine runs in that same venv)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HEADLESS

pytestmark = pytest.mark.skipif(
    not HEADLESS, reason="only in the headless venv (make test-headless, TWINTRAIN_HEADLESS=1)"
)


@pytest.mark.parametrize("module", ["PySide6", "shiboken6", "pyqtgraph"])
def test_qt_is_not_installed(module):
    assert importlib.util.find_spec(module) is None, f"{module} is installed in the headless venv"


def test_the_cli_entry_point_runs_without_qt():
    twintrain = Path(sys.executable).with_name("twintrain")
    # the copied script runs this venv's Python, not the one it was copied from
    assert twintrain.read_text().splitlines()[0] == f"#!{Path(sys.executable).parent}/python"
    proc = subprocess.run(
        [str(twintrain), "check", "xor_mlp"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
