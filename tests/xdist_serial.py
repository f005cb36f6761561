"""Tests marked `serial` run alone when the suite runs in parallel (`make test`: pytest-xdist).

They time something (a stop within 100 ms, workers gone within 1 s, a first point within 2 s,
a GUI that keeps ticking) that another test's framework workers on the same two cores could
spoil. Every other test holds a shared lock on one file while it runs (set-up, call and
tear-down, so a module fixture that trains counts too); a `serial` test holds it exclusively,
so it waits for the other pytest-xdist worker's current test, then for the CPUs to go quiet
(up to 5 s: what that test left running), and runs with nothing else of the suite beside it.
Without pytest-xdist (a plain `pytest`) nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pytest

LOCK_ENV = "TWINTRAIN_TEST_SERIAL_LOCK"


def pytest_configure(config):
    """The xdist controller makes the lock file; its workers inherit the path."""
    if hasattr(config, "workerinput") or os.environ.get(LOCK_ENV):
        return
    if not getattr(config.option, "numprocesses", None):  # no -n: one process, nothing to lock
        return
    fd, path = tempfile.mkstemp(prefix="twintrain-serial-", suffix=".lock")
    os.close(fd)
    os.environ[LOCK_ENV] = path
    config._twintrain_serial_lock = path


def pytest_unconfigure(config):
    path = getattr(config, "_twintrain_serial_lock", None)
    if path:
        os.environ.pop(LOCK_ENV, None)
        with contextlib.suppress(OSError):
            Path(path).unlink()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    path = os.environ.get(LOCK_ENV)
    if not path or not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    import fcntl

    with open(path, "a") as fh:  # closing the file releases the lock, whatever happens
        exclusive = item.get_closest_marker("serial") is not None
        fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        if exclusive:
            _settle()
        yield


def _settle(quiet_percent: float = 25.0, longest_s: float = 5.0) -> None:
    """Wait (at most ``longest_s``) until the machine's CPUs are nearly idle: what the other
    test left running after it ended (a served worker clearing its session and caches between
    jobs, a process on its way out) would otherwise share the cores with a test that times."""
    import time

    import psutil

    end = time.monotonic() + longest_s
    while time.monotonic() < end and psutil.cpu_percent(interval=0.25) > quiet_percent:
        pass
