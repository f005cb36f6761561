"""The suite's sessions share served workers: one process per framework and pinning, reused.

Most tests that train only need a trained model; starting a worker imports its framework afresh
(2-4 s of CPU each, several hundred times in the suite). So the suite sets
``$TWINTRAIN_SERVE_WORKERS=1``: a session started without a pool of its own uses
``engine.worker_pool.shared_pool()``, which takes a worker back after its job and hands it to the
next session with the same framework, cores, threads and environment (engine.worker clears
Keras' session, torch.compile's caches and the peak-memory mark between jobs).

A test about the worker process itself (its start, import time, priority, crash, hang, memory,
or the processes left behind) is marked ``fresh_workers``: its sessions start fresh processes, as
the app's and the CLI's always do, and hand none back. The shared pool's idle workers wait through
it (idle, they take no CPU; ending them would have the next test import every framework again);
``tests.processes.live_children`` leaves them out of the processes a test counts.
"""

from __future__ import annotations

import os

import pytest

from engine.worker_pool import SERVE_ENV, close_shared_pool

os.environ.setdefault(SERVE_ENV, "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Before a ``fresh_workers`` test (and its fixtures): no session is served."""
    if item.get_closest_marker("fresh_workers") is not None:
        item._twintrain_serve = os.environ.get(SERVE_ENV)
        os.environ[SERVE_ENV] = "0"
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if hasattr(item, "_twintrain_serve"):
        os.environ[SERVE_ENV] = item._twintrain_serve or "1"


def pytest_sessionfinish(session, exitstatus):
    close_shared_pool()
