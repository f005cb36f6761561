"""Shared helpers for the reliability tests: the process tree, waiting, and the GUI fixtures.

The GUI fixtures (``win``, ``gui``, a data folder per test) are the ones tests/gui uses.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import psutil
import pytest

from tests.gui.conftest import Driver, data_dir, gui, win  # noqa: F401 (fixtures)
from tests.processes import alive, live_children, wait_for  # noqa: F401 (shared with the tests here)

ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python that imports the project from the repository."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(extra)
    return env


PYTHON = sys.executable


def pytest_collection_modifyitems(config, items):
    """Every test here ends with no child process (below), so its sessions start fresh workers
    rather than the suite's served ones (tests/served_workers.py)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.fresh_workers)


@pytest.fixture(autouse=True)
def no_process_left_behind():
    """Every reliability test must end with no child process; one left over fails the test
    (and is killed, so the next test starts clean)."""
    yield
    left = []
    for p in live_children():
        if not wait_for(lambda p=p: not alive([p.pid]), 5.0):
            try:
                left.append((p.pid, " ".join(p.cmdline())[:120]))
                os.kill(p.pid, signal.SIGKILL)
            except (OSError, psutil.Error):
                pass
    assert not left, f"processes left behind: {left}"
