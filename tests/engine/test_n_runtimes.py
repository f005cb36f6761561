"""More than two columns: the four registered runtimes through the CLI and the session, parity
against the first one, and what `parallel` does with more runtimes than cores (waves).

Real workers and real frameworks on tiny data (xor_mlp); only the core count the session sees
is narrowed in-process, so the wave schedule is exercised on any machine.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from engine import session as session_module
from engine.events import Steps
from engine.presets import load_project_arg
from engine.runtimes import RUNTIMES, installed_runtimes
from engine.session import Session, core_plan, default_schedule, schedule_text, waves
from engine.summary import build_summary, parity
from tests.conftest import ROOT
from tests.in_process_cli import twintrain

ALL = tuple(RUNTIMES)
needs_all = pytest.mark.skipif(
    set(installed_runtimes()) != set(ALL), reason="not every runtime is installed here"
)


def _cores(monkeypatch: pytest.MonkeyPatch, n: int) -> list[int]:
    """Let the session see only the first ``n`` real cores (skips where there are fewer)."""
    real = session_module.available_cores()
    if len(real) < n:
        pytest.skip(f"needs {n} cores")
    monkeypatch.setattr(session_module, "available_cores", lambda: real[:n])
    return real[:n]


# ---- schedules for N (no worker) ---------------------------------------------------------------


def test_parallel_above_the_core_count_is_waves_with_a_core_each(monkeypatch):
    cores = _cores(monkeypatch, 2)
    assert waves(ALL, "parallel") == [ALL[:2], ALL[2:]]
    assert waves(ALL[:3], "parallel") == [ALL[:2], ALL[2:3]]
    assert waves(ALL[:2], "parallel") == [ALL[:2]]
    assert waves(ALL, "alternate") == [(f,) for f in ALL]
    plan = core_plan(ALL[:3], "parallel")
    assert plan == {ALL[0]: ([cores[0]], 1), ALL[1]: ([cores[1]], 1), ALL[2]: ([cores[0]], 1)}
    assert core_plan(ALL, "alternate") == {f: (cores, 2) for f in ALL}
    # the default: parallel while every runtime can have a core, alternate above that
    assert default_schedule("cpu", runtimes=2) == "parallel"
    assert default_schedule("cpu", runtimes=3) == "alternate"
    assert default_schedule("cuda", runtimes=1) == "alternate"
    text = schedule_text("parallel", waves(ALL, "parallel"), 2)
    assert text.startswith("parallel in waves (torch + tensorflow | keras-jax + keras-torch)")


def _run(losses: list[float]) -> SimpleNamespace:
    return SimpleNamespace(steps={"loss": losses})


def test_parity_compares_every_runtime_with_the_first(monkeypatch):
    project = load_project_arg("xor_mlp")
    base = [0.7, 0.6, 0.5, 0.4]
    runs = {
        "keras-torch": _run(base),
        "torch": _run([x + 1e-7 for x in base]),
        "keras-jax": _run([0.7, 0.6, 0.49, 0.3]),  # parts at step 3
    }
    session = SimpleNamespace(project=project, init="matched", optimizer="matched", runs=runs)
    got = parity(session)  # type: ignore[arg-type]
    assert got is not None and got["reference"] == "keras-torch"
    assert list(got["pairs"]) == ["torch", "keras-jax"]
    assert got["pairs"]["torch"]["first_divergent_step"] is None
    assert got["pairs"]["keras-jax"]["first_divergent_step"] == 3
    # the old keys are the worst over the pairs
    assert got["max_loss_abs_diff"] == pytest.approx(0.1)
    assert got["first_divergent_step"] == 3 and got["steps_compared"] == 4
    # two runtimes: the old keys are that pair's, exactly as before
    first_two = dict(list(runs.items())[:2])
    two = parity(SimpleNamespace(**{**vars(session), "runs": first_two}))  # type: ignore[arg-type]
    assert two is not None and two["max_loss_abs_diff"] == pytest.approx(1e-7)
    assert two["pairs"]["torch"]["max_loss_abs_diff"] == two["max_loss_abs_diff"]


# ---- real workers ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(900)  # four workers on two cores
@needs_all
def test_four_runtimes_train_from_the_cli_with_parity(tmp_path):
    out = tmp_path / "run"
    proc = twintrain(
        "train", "xor_mlp", "--frameworks", ",".join(ALL), "--epochs", "1", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["frameworks"]) == list(ALL)
    for fw, figures in summary["frameworks"].items():
        assert figures["status"] == "finished" and figures["steps"] == 25, fw
        assert figures["step_time_median_s"] > 0, fw
    par = summary["parity"]
    assert par["reference"] == "torch" and list(par["pairs"]) == list(ALL[1:])
    for fw, pair in par["pairs"].items():
        assert pair["max_loss_abs_diff"] < 1e-4 and pair["steps_compared"] == 25, fw
    assert par["max_loss_abs_diff"] < 1e-4 and par["first_divergent_step"] is None
    assert summary["schedule_text"] and sum(map(len, summary["schedule_waves"])) == 4
    with open(out / "metrics.csv", newline="") as fh:
        seen = {row["framework"] for row in csv.DictReader(fh)}
    assert seen == set(ALL)
    assert sorted(p.name for p in (out / "weights").iterdir()) == sorted(f"{f}.npz" for f in ALL)
    report = (out / "report.html").read_text()
    for rt in RUNTIMES.values():
        assert f'<th style="color:{rt.colour}">{rt.label}</th>' in report
    table = proc.stdout
    header = next(line for line in table.splitlines() if "PyTorch" in line)
    assert all(rt.label in header for rt in RUNTIMES.values())
    assert "Parity against PyTorch: max |loss diff|" in table and "Schedule: " in table
    for rt in list(RUNTIMES.values())[1:]:
        assert f"  {rt.label}: max |loss diff|" in table


def test_an_unknown_runtime_exits_2_with_the_nearest_name(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "train", "xor_mlp", "--frameworks", "torch,keras-jx"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "twintrain train: --frameworks takes one or more of torch, tensorflow, keras-jax, "
        "keras-torch; unknown framework 'keras-jx' (did you mean 'keras-jax'?)"
    )
    assert not list(tmp_path.iterdir())  # no run folder: refused before anything started


@pytest.mark.slow
@pytest.mark.timeout(900)  # four workers on two cores; the subprocess alone has 600 s
@needs_all
def test_parallel_above_the_core_count_keeps_each_wave_apart(monkeypatch):
    """Three runtimes on two cores in parallel: torch and keras-jax side by side, one core each,
    then keras-torch; the waves take turns in chunks and never compute at the same time."""
    cores = _cores(monkeypatch, 2)
    chosen = ("torch", "keras-jax", "keras-torch")
    project = load_project_arg("xor_mlp")
    session = Session(project, frameworks=chosen, epochs=2, schedule="parallel", chunk_steps=10)
    assert session.waves == [chosen[:2], chosen[2:]] and session.gated
    arrivals: list[str] = []
    lock = threading.Lock()

    def record(fw: str, ev: object) -> None:
        if isinstance(ev, Steps):
            with lock:
                arrivals.append(fw)

    session.subscribe(record)
    session.start()
    try:
        assert session.wait(300)
        assert {r.status for r in session.runs.values()} == {"finished"}, {
            n: r.error for n, r in session.runs.items()
        }
    finally:
        session.close()
    for name, run in session.runs.items():
        assert run.cores == [cores[chosen.index(name) % 2]] and run.threads == 1, name
    wave_of = {f: i for i, w in enumerate(session.waves) for f in w}
    blocks = [wave_of[f] for f in arrivals]
    switches = sum(1 for a, b in zip(blocks, blocks[1:]) if a != b)
    assert switches >= 6  # 50 steps each in chunks of 10: the waves took turns
    summary = build_summary(session)
    assert summary["schedule"] == "parallel"
    assert summary["schedule_waves"] == [list(chosen[:2]), list(chosen[2:])]
    assert summary["schedule_text"].startswith(
        "parallel in waves (torch + keras-jax | keras-torch)"
    )
    assert summary["parity"]["max_loss_abs_diff"] < 1e-4
    assert np.isfinite(summary["frameworks"]["keras-torch"]["step_time_median_s"])
