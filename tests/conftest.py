"""Shared test set-up: Qt runs offscreen; paths to the bundled presets; the `qt` marker (skipped
without PySide6) and the framework-free guard of `make check`."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

# `serial` tests run alone under pytest-xdist (tests/xdist_serial.py says how).
pytest_plugins = ["tests.xdist_serial", "tests.served_workers", "tests.shared_compile_cache"]

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


# The heaviest modules, longest first (seconds each in `make test` on the 2-core machine,
# 2026-12-04). pytest-xdist hands out whole modules (--dist loadscope, --no-loadscope-reorder) in
# collection order; starting the long ones first lets both processes finish together instead of
# one running a 2-minute module alone at the end. Only the order depends on this table.
HEAVY_FIRST = {
    f"tests/{name}.py": i
    for i, name in enumerate(
        (
            "engine/test_divergence",  # 145 s
            "engine/test_export_code",  # 115 s
            "engine/test_deploy",  # 115 s
            "engine/test_export",  # 70 s
            "engine/test_parity_matrix",  # 70 s
            "engine/test_worker_pool",  # 70 s
            "engine/test_keras_backends",  # 65 s
            "gui/test_self_test",  # 65 s
            "engine/test_served_workers",  # 60 s
            "engine/test_modes",  # 55 s
            "engine/test_session",  # 50 s
            "reliability/test_worker_faults",  # 45 s
            "gui/test_run_dashboard",  # 45 s
            "engine/test_keep_out",  # 30 s
            "reliability/test_soak",  # 25 s
            "engine/test_backends",  # 25 s
        )
    )
}


def _heaviest_first(items) -> None:
    """Stable: the modules of HEAVY_FIRST in its order, then every other in collection order."""
    last = len(HEAVY_FIRST)
    items.sort(key=lambda item: HEAVY_FIRST.get(item.nodeid.split("::")[0], last))


def pytest_collection_modifyitems(config, items):
    """The heaviest modules first (above); tests marked `qt` are skipped where PySide6 is not
    installed (the headless venv)."""
    _heaviest_first(items)
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
