"""Shared test set-up: Qt runs offscreen; paths to the bundled presets; the `qt` marker (skipped
without PySide6) and the framework-free guard of `make check`."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

# `serial` tests run alone under pytest-xdist (tests/xdist_serial.py says how).
pytest_plugins = ["tests.xdist_serial", "tests.served_workers"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Warm (pre-started) workers import both frameworks in the background: only the tests about
# them turn them on, so that every window a test opens does not cost two imports.
os.environ.setdefault("TWINTRAIN_WARM_WORKERS", "0")
# A run whose curves part gets a layer comparison when it is finalized (two more workers):
# tests/engine/test_divergence.py covers it; elsewhere it would only slow the suite down.
os.environ.setdefault("TWINTRAIN_NO_LAYER_DIFF", "1")

ROOT = Path(__file__).resolve().parent.parent
PRESETS = sorted((ROOT / "presets").glob("*.twintrain.json"))

# `make test-headless` runs tests/engine in a venv without PySide6 and pyqtgraph and sets this.
HEADLESS = os.environ.get("TWINTRAIN_HEADLESS") == "1"
HAS_QT = importlib.util.find_spec("PySide6") is not None


def pytest_collection_modifyitems(config, items):
    """Tests marked `qt` are skipped where PySide6 is not installed (the headless venv)."""
    if HAS_QT:
        return
    skip = pytest.mark.skip(reason="needs PySide6, which this environment does not have")
    for item in items:
        if item.get_closest_marker("qt"):
            item.add_marker(skip)


# `make check` sets this: its tests must stay Qt-free and framework-free (fast, no worker).
FRAMEWORK_FREE = os.environ.get("TWINTRAIN_FRAMEWORK_FREE") == "1"
HEAVY_MODULES = ("torch", "tensorflow", "keras", "PySide6", "pyqtgraph")


def pytest_sessionfinish(session, exitstatus):
    """Under `make check`, importing a framework or Qt in the test process fails the run."""
    if not FRAMEWORK_FREE:
        return
    imported = [name for name in HEAVY_MODULES if name in sys.modules]
    if imported:
        session.config.get_terminal_writer().line(
            f"make check: these tests imported {', '.join(imported)}; "
            "move the test out of CHECK_TESTS (Makefile) or keep it framework-free",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
