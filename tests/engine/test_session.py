"""Sessions with real workers: run folder, parity, stop, pause, faults, schedules, no orphans."""

import json
import os
import signal
import threading
import time

import pytest

from engine.cli import main
from engine.events import Done, Steps
from engine.presets import load_project_arg
from engine.session import Session
from engine.summary import build_summary
from tests.processes import live_children

# A test about the worker processes themselves (stop, kill, hang, faults, none left behind) starts
# fresh ones (tests/served_workers.py); the others train on the suite's served workers.
fresh_workers = pytest.mark.fresh_workers

SUMMARY_KEYS = {
    "version",
    "device",
    "threads",
    "params",
    "steps",
    "warmup_s",
    "step_time_median_s",
    "step_time_p95_s",
    "samples_per_s",
    "peak_rss_bytes",
    "peak_device_bytes",
    "final_train_loss",
    "final_val_loss",
    "final_val_accuracy",
}


def no_children():
    return live_children()


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@fresh_workers
def test_train_writes_the_run_folder(xor_run):
    out = xor_run  # `twintrain train xor_mlp --epochs 2 --quiet`, shared (tests/engine/conftest.py)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["format"] == "twintrain-run/1"
    assert summary["project"] == "xor-mlp"
    assert summary["schedule"] == "parallel" and summary["init"] == "matched"
    for fw in ("torch", "tensorflow"):
        figures = summary["frameworks"][fw]
        assert set(figures) >= SUMMARY_KEYS
        assert figures["steps"] == 2 * 25
        assert figures["params"] == 354
        assert figures["threads"] == 1
        assert 0 < figures["step_time_median_s"] <= figures["step_time_p95_s"]
        assert figures["peak_rss_bytes"] > 50 * 2**20
        assert 0.0 <= figures["final_val_accuracy"] <= 1.0
    parity = summary["parity"]
    assert parity["max_loss_abs_diff"] < 1e-4
    assert parity["first_divergent_step"] is None
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0] == "framework,epoch,step,loss,step_time_s,samples_per_s,rss_bytes,device_bytes"
    assert len(lines) == 1 + 2 * 50
    epochs = (out / "epochs.csv").read_text().splitlines()
    assert epochs[0] == "framework,epoch,train_loss,val_loss,val_accuracy,epoch_time_s"
    assert sorted(line.split(",")[0] for line in epochs[1:]) == ["tensorflow"] * 2 + ["torch"] * 2
    charts = sorted(p.name for p in (out / "charts").iterdir())
    assert charts == sorted(
        f"{n}.{e}" for n in ("loss", "step_time", "memory", "throughput") for e in ("png", "svg")
    )
    report = (out / "report.html").read_text()
    assert report.count("<svg") == 4 and 'src="http' not in report and "<script" not in report
    assert "PyTorch" in report and "Median step" in report
    assert no_children() == []


def test_refuses_a_non_empty_run_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["train", "xor_mlp", "--epochs", "1", "--out", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def _long_session(**kw):
    project = load_project_arg("digits_mlp")
    project.training["epochs"] = 3000  # neither framework can finish before the test stops it
    return Session(project, **kw)


@fresh_workers
@pytest.mark.serial  # times itself (tests/xdist_serial.py)
def test_stop_takes_effect_within_100ms_and_a_second_run_works():
    session = _long_session()
    done_at = {}
    session.subscribe(
        lambda fw, ev: done_at.setdefault(fw, time.perf_counter()) if isinstance(ev, Done) else None
    )
    session.start()
    try:
        assert wait_for(lambda: all(len(r.steps["step"]) > 20 for r in session.runs.values()))
        session.stop()
        assert session.wait(10)
        for fw, run in session.runs.items():
            assert run.status == "stopped", (fw, run.error)
            # The worker acts on the stop within 100 ms (its own clock, from the command's arrival
            # to its last event); end to end adds pipe delivery and scheduling on a busy machine.
            assert run.done["stop_latency_s"] < 0.1, fw
            assert done_at[fw] - session.stop_requested_at < 0.3, fw
    finally:
        session.close()
    assert no_children() == []
    again = Session(load_project_arg("xor_mlp"), epochs=1)
    again.start()
    try:
        assert again.wait(90)
        assert {r.status for r in again.runs.values()} == {"finished"}
    finally:
        again.close()


def test_pause_and_resume():
    session = _long_session(frameworks=("torch",))
    session.start()
    try:
        run = session.runs["torch"]
        assert wait_for(lambda: len(run.steps["step"]) > 10)
        session.pause()
        assert wait_for(lambda: run.status == "paused", 5)
        time.sleep(0.1)
        frozen = len(run.steps["step"])
        time.sleep(0.3)
        assert len(run.steps["step"]) == frozen
        session.resume()
        assert wait_for(lambda: len(run.steps["step"]) > frozen + 10, 10)
        session.stop()
        assert session.wait(10)
    finally:
        session.close()


@fresh_workers
def test_killing_one_worker_leaves_the_other_to_finish():
    project = load_project_arg("digits_mlp")
    project.training["epochs"] = 60
    session = Session(project)
    session.start()
    try:
        tf = session.runs["tensorflow"]
        assert wait_for(lambda: len(tf.steps["step"]) > 0)  # the first batch of events: ~5% in
        os.kill(tf.process.pid, signal.SIGKILL)
        assert session.wait(120)
        assert tf.status == "error"
        assert "killed by SIGKILL" in tf.error
        torch_run = session.runs["torch"]
        assert torch_run.status == "finished"
        assert len(torch_run.epochs) == 60
        summary = build_summary(session)
        assert "error" in summary["frameworks"]["tensorflow"]
        assert summary["frameworks"]["torch"]["final_val_accuracy"] > 0.5
    finally:
        session.close()
    assert no_children() == []


@fresh_workers
@pytest.mark.parametrize(
    "fault,expected",
    [
        ("raise:7", "injected failure at step 7"),
        ("nan:4", "loss became nan at step 4"),
        ("exit:3", "exited with code 7"),
    ],
)
def test_faults_become_errors_for_that_framework_only(monkeypatch, fault, expected):
    monkeypatch.setenv("TWINTRAIN_TEST_FAULT", f"torch:{fault}")
    session = Session(load_project_arg("xor_mlp"), epochs=2, frameworks=("torch",))
    session.start()
    try:
        assert session.wait(60)
        run = session.runs["torch"]
        assert run.status == "error"
        assert expected in run.error
    finally:
        session.close()
    assert no_children() == []


@fresh_workers
def test_hung_worker_is_declared_unresponsive(monkeypatch):
    monkeypatch.setenv("TWINTRAIN_TEST_FAULT", "torch:hang:3")
    session = Session(
        load_project_arg("xor_mlp"), epochs=2, frameworks=("torch",), hang_timeout_s=1.0
    )
    session.start()
    try:
        assert session.wait(60)
        assert "unresponsive" in session.runs["torch"].error
    finally:
        session.close()
    assert no_children() == []


@pytest.mark.parametrize("schedule", ["sequential", "alternate"])
def test_one_framework_computes_at_a_time(schedule):
    arrivals = []
    lock = threading.Lock()
    session = Session(load_project_arg("xor_mlp"), epochs=3, schedule=schedule, chunk_steps=10)

    def record(fw, ev):
        if isinstance(ev, Steps):
            with lock:
                arrivals.append((fw, ev.step[0], ev.step[-1]))

    session.subscribe(record)
    session.start()
    try:
        assert session.wait(120)
        assert {r.status for r in session.runs.values()} == {"finished"}
    finally:
        session.close()
    order = [fw for fw, *_ in arrivals]
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    if schedule == "sequential":
        assert switches == 1
    else:
        assert switches >= 6  # 75 steps each in chunks of 10
        for _fw, first, last in arrivals:
            assert (last - 1) // 10 == (first - 1) // 10  # no batch of events spans two turns
    summary = build_summary(session)
    assert summary["schedule"] == schedule
    assert summary["parity"]["max_loss_abs_diff"] < 1e-4


def test_layer_ids_that_clash_with_module_attributes_train_in_both():
    from engine.spec import from_dict

    project = from_dict(
        {
            "format": "twintrain/1",
            "model": {
                "input": {"shape": [2]},
                "layers": [
                    {"id": "forward", "type": "Dense", "units": 8, "activation": "relu"},
                    {"id": "keys", "type": "Dense", "units": 8, "activation": "relu"},
                    {"id": "to", "type": "Dense", "units": 2},
                ],
            },
            "training": {"dataset": {"name": "xor", "n_samples": 200}, "epochs": 1},
        }
    )
    session = Session(project)
    session.start()
    try:
        assert session.wait(90)
        assert {fw: r.status for fw, r in session.runs.items()} == {
            "torch": "finished",
            "tensorflow": "finished",
        }
        assert build_summary(session)["parity"]["max_loss_abs_diff"] < 1e-4
    finally:
        session.close()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-memory", "10"], "--max-memory must be at least 64 (MB), got 10"),
        (["--max-memory", "nan"], "--max-memory must be at least 64 (MB), got nan"),
        (["--hang-timeout", "1"], "--hang-timeout must be at least 5 (seconds), got 1"),
    ],
)
def test_train_refuses_nonsense_limits_before_anything_starts(tmp_path, capsys, flags, message):
    out = tmp_path / "run"
    assert main(["train", "xor_mlp", "--out", str(out), "--quiet", *flags]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


@fresh_workers
def test_train_stops_a_framework_over_its_memory_cap(tmp_path, capsys):
    """--max-memory reaches the worker: PyTorch alone holds about 370 MB once imported."""
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "xor_mlp",
                "--epochs",
                "1",
                "--out",
                str(out),
                "--quiet",
                "--frameworks",
                "torch",
                "--max-memory",
                "100",
                "--hang-timeout",
                "60",
            ]
        )
        == 1
    )
    summary = json.loads((out / "summary.json").read_text())
    assert "above the cap of 100 MiB; torch was stopped" in summary["frameworks"]["torch"]["error"]
