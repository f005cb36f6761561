"""Warm (pre-started) workers: a session takes one only when it matches exactly, the numbers are
those of a cold worker, pinning holds for every thread, and none outlives its pool."""

import os
import time

import psutil
import pytest

from engine.presets import load_project_arg
from engine.session import Session, core_plan
from engine.worker_pool import WorkerPool, spawn_worker
from tests.processes import alive

# cold sessions must start fresh workers, not the suite's served ones (tests/served_workers.py)
pytestmark = pytest.mark.fresh_workers


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def gone(pids, timeout=10.0):
    return wait_for(lambda: not alive(pids), timeout)


def run_session(pool=None, epochs=2, preset="xor_mlp", init="matched"):
    project = load_project_arg(preset)
    with Session(project, epochs=epochs, pool=pool, init=init) as session:
        session.start()
        assert session.wait(120)
        return {
            fw: (run.status, run.prestarted, dict(run.info), list(run.steps["loss"]))
            for fw, run in session.runs.items()
        }


@pytest.fixture
def pool():
    p = WorkerPool()
    yield p
    p.close()


def test_a_warm_session_trains_like_a_cold_one(pool):
    plan = core_plan(("torch", "tensorflow"), "parallel")
    assert pool.prestart(plan) == 2
    assert pool.prestart(plan) == 0  # already there: nothing new is started
    assert wait_for(lambda: pool.state() == {"torch": "ready", "tensorflow": "ready"}, 120)
    warm = run_session(pool)
    assert pool.state() == {}  # both were taken
    cold = run_session(None)
    for fw in ("torch", "tensorflow"):
        status, prestarted, info, losses = warm[fw]
        assert status == "finished" and prestarted and info["prestarted"] is True
        assert (
            info["preload_s"] > 0.3 and info["import_s"] < 0.2
        )  # the import happened before the job
        c_status, c_prestarted, c_info, c_losses = cold[fw]
        assert c_status == "finished" and not c_prestarted and c_info["prestarted"] is False
        assert c_info["import_s"] > 0.3
        assert len(losses) == len(c_losses) == 50
        assert max(abs(a - b) for a, b in zip(losses, c_losses)) < 1e-6  # warm changes no number


@pytest.mark.parametrize("init", ["matched", "native"])
def test_the_warm_up_rehearsal_changes_no_number(pool, init):
    """A warm worker trains a throwaway model before its job; dropout masks, BatchNorm and (native)
    initial weights must still come out as on a fresh worker."""
    plan = core_plan(("torch", "tensorflow"), "parallel")
    pool.prestart(plan)
    assert wait_for(lambda: pool.state() == {"torch": "ready", "tensorflow": "ready"}, 120)
    warm = run_session(pool, 1, "breast_cancer_bn", init)
    cold = run_session(None, 1, "breast_cancer_bn", init)
    for fw in ("torch", "tensorflow"):
        assert warm[fw][1] and not cold[fw][1]
        assert len(warm[fw][3]) == len(cold[fw][3]) > 10
        assert warm[fw][3] == cold[fw][3], fw  # bit for bit


def test_a_session_takes_only_a_matching_worker(pool, monkeypatch):
    cores = sorted(os.sched_getaffinity(0))
    pool.prestart({"torch": (cores, len(cores))})
    assert pool.take("tensorflow", cores, len(cores)) is None
    assert pool.take("torch", cores, len(cores) + 1) is None
    monkeypatch.setenv(
        "TWINTRAIN_TEST_FAULT", "torch:raise:3"
    )  # another environment: another worker
    assert pool.take("torch", cores, len(cores)) is None
    monkeypatch.delenv("TWINTRAIN_TEST_FAULT")
    worker = pool.take("torch", cores, len(cores))
    assert worker is not None and worker.process.poll() is None
    assert pool.take("torch", cores, len(cores)) is None  # taken once
    worker.stop()
    assert worker.process.poll() is not None and worker.process.stdout.closed


def test_prestart_replaces_workers_of_another_plan(pool):
    cores = sorted(os.sched_getaffinity(0))
    pool.prestart({"torch": (cores[:1], 1)})
    first = pool.idle_pids()
    assert len(first) == 1
    pool.prestart({"torch": (cores, len(cores))})
    second = pool.idle_pids()
    assert len(second) == 1 and second != first
    assert gone(first)


def test_every_thread_of_a_warm_worker_is_pinned(pool):
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two cores")
    pin = {"tensorflow": ([cores[1]], 1)}
    pool.prestart(pin)
    assert wait_for(lambda: pool.state() == {"tensorflow": "ready"}, 120)
    with Session(
        load_project_arg("xor_mlp"), frameworks=("tensorflow",), epochs=200, pinning=pin, pool=pool
    ) as s:
        s.start()
        run = s.runs["tensorflow"]
        assert wait_for(lambda: len(run.steps["step"]) > 20, 60) and run.prestarted
        threads = [t.id for t in psutil.Process(run.info["pid"]).threads()]
        affinity = {tid: os.sched_getaffinity(tid) for tid in threads}
        s.stop()
        assert s.wait(10)
    assert len(threads) > 1  # TensorFlow's runtime threads, started after the job came
    assert affinity == {tid: {cores[1]} for tid in threads}


def test_no_warm_worker_outlives_its_pool_or_its_parent(pool):
    pool.prestart({"torch": (None, 1)})
    (pid,) = pool.idle_pids()
    pool.close()
    assert gone([pid])
    # a warm worker whose parent went away (its stdin closed) exits by itself, even mid-import
    proc = spawn_worker("torch", (None, 1))
    proc.stdin.close()
    assert proc.wait(timeout=60) == 3
    proc.stdout.close()
    proc.stderr.close()
