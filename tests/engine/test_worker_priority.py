"""Workers started from the app run at a lower priority than the window (TWINTRAIN_WORKER_NICE);
a CLI run keeps its normal priority. Warm workers are lowered before their import."""

import os
import time

import psutil
import pytest

from engine.presets import load_project_arg
from engine.session import Session
from engine.worker_pool import NICE_ENV, WorkerPool

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX niceness"),
    pytest.mark.fresh_workers,  # a worker's own priority, set when it starts
]


def niceness_of_runs(**session_kw) -> dict[str, int]:
    with Session(load_project_arg("xor_mlp"), epochs=1, **session_kw) as session:
        session.start()
        assert session.wait(120)
        return {fw: run.info["nice"] for fw, run in session.runs.items()}


def test_a_cli_run_keeps_normal_priority(monkeypatch):
    monkeypatch.delenv(NICE_ENV, raising=False)
    assert niceness_of_runs() == {"torch": os.nice(0), "tensorflow": os.nice(0)}


def test_app_workers_run_five_steps_lower(monkeypatch):
    monkeypatch.setenv(NICE_ENV, "5")
    base = os.nice(0)
    assert niceness_of_runs() == {"torch": min(base + 5, 19), "tensorflow": min(base + 5, 19)}


def test_a_warm_worker_is_lowered_before_its_import(monkeypatch):
    monkeypatch.setenv(NICE_ENV, "5")
    pool = WorkerPool()
    try:
        pool.prestart({"torch": (None, 1)})
        (pid,) = pool.idle_pids()
        deadline = time.monotonic() + 30
        while psutil.Process(pid).nice() == os.nice(0) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert psutil.Process(pid).nice() == min(os.nice(0) + 5, 19)
        assert pool.state() == {"torch": "importing"}  # lowered while the import is still going
    finally:
        pool.close()


def test_a_bad_value_is_ignored(monkeypatch):
    monkeypatch.setenv(NICE_ENV, "high")
    assert niceness_of_runs(frameworks=("torch",)) == {"torch": os.nice(0)}
