"""A pool that serves: a worker runs job after job, each as if it were fresh (engine.worker's
``serve``), and only a worker whose job finished goes back. The suite runs on this
(tests/served_workers.py), so it must change no number."""

from __future__ import annotations

import os

import pytest

from engine.presets import load_project_arg
from engine.session import Session
from engine.worker_pool import SERVE_ENV, WorkerPool, shared_pool
from tests.processes import alive, wait_for

# its cold sessions must start fresh workers (tests/served_workers.py)
pytestmark = [pytest.mark.fresh_workers, pytest.mark.slow]


def run(preset: str, columns: tuple[str, ...], pool: WorkerPool | None, **kw) -> dict:
    with Session(load_project_arg(preset), frameworks=columns, epochs=1, pool=pool, **kw) as s:
        s.start()
        assert s.wait(300)
        return {
            c: {
                "status": r.status,
                "error": r.error,
                "pid": r.info.get("pid"),
                "info": dict(r.info),
                "losses": list(r.steps["loss"]),
                "compiles": [c["graphs"] for c in r.compiles],
                "handed_back": r.handed_back,
            }
            for c, r in s.runs.items()
        }


@pytest.fixture
def serving():
    pool = WorkerPool(serves=True)
    yield pool
    pool.close()


@pytest.mark.parametrize("columns", [("torch", "tensorflow"), ("keras-jax", "torch:compile")])
def test_one_process_serves_job_after_job_and_changes_no_number(serving, columns, monkeypatch):
    # Dropout and BatchNorm (random masks, running statistics), then another network, then the
    # first again: every served job equals a fresh worker's, bit for bit, compiles included.
    first = run("breast_cancer_bn", columns, serving)
    assert serving.state() == dict.fromkeys(columns, "ready")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "another test")  # pytest's own: not the worker's
    other = run("digits_cnn", columns, serving)
    again = run("breast_cancer_bn", columns, serving)
    cold = run("breast_cancer_bn", columns, None)
    for c in columns:
        assert first[c]["status"] == other[c]["status"] == again[c]["status"] == "finished", c
        assert first[c]["pid"] == other[c]["pid"] == again[c]["pid"] != cold[c]["pid"], c
        assert first[c]["info"]["import_s"] > 0.3 and not first[c]["info"]["prestarted"]
        assert again[c]["info"]["prestarted"] and again[c]["info"]["import_s"] < 0.2, c
        assert not cold[c]["handed_back"] and again[c]["handed_back"]
        assert len(again[c]["losses"]) == len(cold[c]["losses"]) > 10
        assert again[c]["losses"] == cold[c]["losses"] == first[c]["losses"], c
        assert again[c]["compiles"] == cold[c]["compiles"], c  # torch.compile's caches cleared
    assert alive([cold[c]["pid"] for c in columns]) == []  # a session without a pool ends its own


def test_a_worker_that_failed_or_was_stopped_is_not_kept(serving, monkeypatch):
    monkeypatch.setenv("TWINTRAIN_TEST_FAULT", "tensorflow:raise:3")
    res = run("xor_mlp", ("torch", "tensorflow"), serving)
    assert res["torch"]["status"] == "finished" and res["tensorflow"]["status"] == "error"
    assert serving.state() == {"torch": "ready"}  # the failed worker is gone
    assert wait_for(lambda: not alive([res["tensorflow"]["pid"]]), 10)
    monkeypatch.delenv("TWINTRAIN_TEST_FAULT")
    with Session(load_project_arg("digits_mlp"), frameworks=("torch",), pool=serving) as s:
        s.start()
        assert wait_for(lambda: len(s.runs["torch"].steps["step"]) > 2, 120)
        s.stop()
        assert s.wait(30)
        pid = s.runs["torch"].info["pid"]
    assert s.runs["torch"].status == "stopped" and not s.runs["torch"].handed_back
    # (a single column has every core: another key than the torch worker kept above, still idle)
    assert serving.idle_pids() == [res["torch"]["pid"]] and wait_for(lambda: not alive([pid]), 10)


def test_the_suite_shares_a_serving_pool_unless_a_test_wants_fresh_workers(monkeypatch):
    assert os.environ[SERVE_ENV] == "0" and shared_pool() is None  # this module: fresh workers
    monkeypatch.setenv(SERVE_ENV, "1")
    pool = shared_pool()
    assert pool is not None and pool.serves and shared_pool() is pool
    assert Session(load_project_arg("xor_mlp")).pool is pool
    assert Session(load_project_arg("xor_mlp"), pool=WorkerPool()).pool is not pool
