"""Worker faults injected for real, one framework at a time, while the other trains.

For every fault (exception at step k, os._exit mid-step, SIGKILL from outside, a hang, memory
over the RSS cap, NaN loss): the other framework finishes every epoch, the error sits on the
failed framework's FrameworkRun (and nowhere else), the run folder holds what was measured
(metrics.csv rows, epochs.csv, summary.json with the survivor's figures and the victim's
error), and no worker process is left. tests/engine/test_session.py checks the messages of
single-framework faults; this adds the survivor, the run folder and the process tree.
"""

from __future__ import annotations

import csv
import json
import os
import signal
from dataclasses import dataclass

import pytest

from engine.events import Status
from engine.presets import load_project_arg
from engine.run_folder import RunRecorder, prepare_run_dir
from engine.session import Session
from tests.reliability.conftest import alive, live_children, wait_for

STEPS_PER_EPOCH = 25  # xor_mlp: 800 training samples in batches of 32
RSS_CAP = 1536 * 2**20  # a TensorFlow worker on xor_mlp peaks near 700 MiB; PyTorch near 450 MiB


@dataclass(frozen=True)
class Case:
    name: str
    victim: str
    fault: str | None  # TWINTRAIN_TEST_FAULT kind:step, or None for SIGKILL from the test
    expected: tuple[str, ...]
    session: tuple[tuple[str, object], ...] = ()
    max_victim_steps: int | None = None
    epochs: int = 2


CASES = [
    Case(
        "exception",
        "tensorflow",
        "raise:7",
        ("RuntimeError: injected failure at step 7",),
        max_victim_steps=7,
    ),
    Case(
        "os_exit",
        "torch",
        "exit:5",
        ("torch worker exited with code 7 before finishing",),
        max_victim_steps=5,
    ),
    # 40 epochs (1000 steps, a second or two) so the kill lands mid-run, not after the end
    Case("sigkill", "torch", None, ("torch worker was killed by SIGKILL",), epochs=40),
    Case(
        "hang",
        "tensorflow",
        "hang:5",
        ("tensorflow worker sent nothing for 6 s", "declared unresponsive"),
        (("hang_timeout_s", 6.0),),
        max_victim_steps=5,
    ),
    Case(
        "memory",
        "torch",
        "memory:3",
        ("memory (RSS) reached", "above the cap of 1536 MiB; torch was stopped"),
        (("rss_cap_bytes", RSS_CAP),),
    ),
    Case(
        "nan",
        "tensorflow",
        "nan:4",
        ("loss became nan at step 4 (epoch 1); tensorflow was stopped",),
        max_victim_steps=4,
    ),
]


def read_metrics(path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {"torch": [], "tensorflow": []}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows[row["framework"]].append(row)
    return rows


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_framework_fails_the_other_finishes(case: Case, tmp_path, monkeypatch):
    survivor = "torch" if case.victim == "tensorflow" else "tensorflow"
    if case.fault:
        monkeypatch.setenv("TWINTRAIN_TEST_FAULT", f"{case.victim}:{case.fault}")
    else:
        monkeypatch.delenv("TWINTRAIN_TEST_FAULT", raising=False)
    project = load_project_arg("xor_mlp")
    project.training["epochs"] = case.epochs
    project.name = "<script>alert(1)</script>"  # the report must show it as text
    steps = case.epochs * STEPS_PER_EPOCH
    out = prepare_run_dir(tmp_path / "run")
    session = Session(project, **dict(case.session))
    recorder = RunRecorder(session, out)
    errors_seen: list[tuple[str, str]] = []
    session.subscribe(
        lambda fw, ev: (
            errors_seen.append((fw, ev.error)) if isinstance(ev, Status) and ev.error else None
        )
    )
    session.start()
    pids = []
    try:
        victim = session.runs[case.victim]
        if case.fault is None:
            assert wait_for(lambda: len(victim.steps["step"]) >= 3, 120)
            os.kill(victim.process.pid, signal.SIGKILL)
        assert session.wait(150), {f: r.status for f, r in session.runs.items()}
        pids = [r.process.pid for r in session.runs.values()]
    finally:
        session.close()
        summary = recorder.finish() if case.name == "sigkill" else recorder.close()

    # the error is the victim's, and only the victim's
    victim, other = session.runs[case.victim], session.runs[survivor]
    assert victim.status == "error"
    for part in case.expected:
        assert part in victim.error, (part, victim.error)
    assert [fw for fw, _ in errors_seen] == [case.victim]
    assert other.status == "finished" and other.error is None
    assert len(other.steps["step"]) == steps and len(other.epochs) == case.epochs
    assert len(victim.steps["step"]) <= (case.max_victim_steps or steps - 1)
    if case.name == "exception":
        assert "Traceback" in victim.error_detail and "injected failure" in victim.error_detail

    # the run folder holds what was measured
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    figures = written["frameworks"]
    assert figures == json.loads(json.dumps(summary["frameworks"]))
    assert figures[case.victim]["error"] == victim.error
    assert figures[case.victim]["steps"] == len(victim.steps["step"])
    assert "error" not in figures[survivor]
    assert figures[survivor]["steps"] == steps and figures[survivor]["status"] == "finished"
    assert (
        figures[survivor]["step_time_median_s"] > 0
        and figures[survivor]["final_val_accuracy"] is not None
    )
    rows = read_metrics(out / "metrics.csv")
    assert [int(r["step"]) for r in rows[survivor]] == list(range(1, steps + 1))
    assert [int(r["step"]) for r in rows[case.victim]] == list(
        range(1, len(victim.steps["step"]) + 1)
    )
    assert all(float(r["step_time_s"]) > 0 and int(r["rss_bytes"]) > 0 for r in rows[survivor])
    epochs = [line.split(",")[0] for line in (out / "epochs.csv").read_text().splitlines()[1:]]
    assert epochs.count(survivor) == case.epochs and epochs.count(case.victim) == len(victim.epochs)
    if case.name == "memory":
        reached = float(victim.error.split("reached ")[1].split(" MiB")[0])
        assert (
            reached * 2**20 > RSS_CAP
        )  # stopped for being over the cap, at the first sample over it
        assert rows[case.victim] and all(int(r["rss_bytes"]) <= RSS_CAP for r in rows[case.victim])
        assert max(int(r["rss_bytes"]) for r in rows[survivor]) < RSS_CAP
    if case.name == "nan":
        assert rows[case.victim][-1]["loss"] == "nan"
    if case.name == "sigkill":  # charts and report drawn from what finished
        report = (out / "report.html").read_text(encoding="utf-8")
        assert "killed by SIGKILL" in report
        assert "<script" not in report and "&lt;script&gt;alert(1)" in report
        assert sorted(p.name for p in (out / "charts").iterdir() if p.suffix == ".png") == [
            "loss.png",
            "memory.png",
            "step_time.png",
            "throughput.png",
        ]

    # no worker left
    assert wait_for(lambda: not alive(pids), 10)
    assert live_children() == []
