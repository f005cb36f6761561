"""The summary's figures agree with each other: throughput is defined from the same steady steps
as the median step time (a few slow steps cannot make it point the other way), every comparison
says which framework is better and in which direction, and the run says which init and
optimizer math ran, in summary.json, the CLI table and the report alike."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.report import ROW_HELP, comparison, footnotes, run_rows, summary_rows, write_report
from engine.session import FrameworkRun
from engine.summary import framework_summary, steady_figures, warmup_steps
from engine.train_cli import _summary_text

BATCH = 16


def synthetic_run(name: str, times: list[float], rss: float) -> FrameworkRun:
    """A finished run of len(times) steps of BATCH samples (the last one partial, as at an
    epoch's end)."""
    run = FrameworkRun(name)
    n = len(times)
    samples = [BATCH] * (n - 1) + [BATCH // 2]
    run.steps.update(
        step=list(range(1, n + 1)),
        epoch=[1] * n,
        loss=list(np.linspace(1, 0.5, n)),
        step_time_s=list(times),
        samples=samples,
        rss_bytes=[rss] * n,
        device_bytes=[None] * n,
        wall_s=list(np.cumsum(times)),
    )
    run.status = "finished"
    run.info = {"version": "1", "device": "cpu"}
    return run


def iris_like() -> dict[str, dict]:
    """PyTorch's typical step is faster, but a few of its steps are very slow (the iris case:
    median PyTorch 1.13× faster while total ÷ time said TensorFlow 2.07× faster)."""
    torch_t = [0.05] * 5 + [0.001] * 90 + [0.1] * 5
    tf_t = [0.2] * 5 + [0.00113] * 95
    return {
        "torch": framework_summary(synthetic_run("torch", torch_t, 100 * 2**20)),
        "tensorflow": framework_summary(synthetic_run("tensorflow", tf_t, 161 * 2**20)),
    }


def test_throughput_is_samples_per_step_over_the_median_step():
    figures = iris_like()
    for fw, f in figures.items():
        w = warmup_steps(100)
        assert f["warmup_steps"] == w
        steady_samples = np.array([BATCH] * 99 + [BATCH // 2], dtype=float)[w:]
        assert f["samples_per_s"] == pytest.approx(
            steady_samples.mean() / f["step_time_median_s"]
        ), fw
    t, p = figures["torch"], figures["tensorflow"]
    # the median row and the throughput row rank the frameworks alike, by the same ratio
    assert t["step_time_median_s"] < p["step_time_median_s"]
    assert t["samples_per_s"] / p["samples_per_s"] == pytest.approx(
        p["step_time_median_s"] / t["step_time_median_s"]
    )
    # the mean-based figure is kept apart, and here it points the other way
    assert t["samples_per_s_overall"] < p["samples_per_s_overall"]
    assert t["samples_per_s_overall"] == pytest.approx(
        np.sum([BATCH] * 94 + [BATCH // 2]) / (0.001 * 90 + 0.1 * 5)
    )


def test_steady_figures_of_no_steps_are_empty():
    assert steady_figures([], []) == {
        "step_time_median_s": None,
        "step_time_p95_s": None,
        "samples_per_s": None,
        "samples_per_s_overall": None,
    }


def notes_by_label(summary) -> dict[str, str]:
    return {label: note for label, _cells, note in summary_rows(summary)}


def test_every_comparison_names_the_better_one_and_the_direction():
    summary = {"frameworks": iris_like(), "init": "matched", "optimizer": "matched"}
    notes = notes_by_label(summary)
    assert notes["Median step (ms)"] == "PyTorch 1.13× faster"
    assert (
        notes["Samples/s"] == "PyTorch 1.13× higher throughput"
    )  # never the opposite of the median
    assert notes["Samples/s (total ÷ time)"].startswith("TensorFlow/Keras ")
    assert notes["Samples/s (total ÷ time)"].endswith("× higher throughput")
    assert notes["Peak RSS (MiB)"] == "PyTorch 1.61× less memory"
    assert notes["Warm-up (s)"] == "PyTorch 4.00× shorter warm-up"
    assert notes["First step (s)"] == "PyTorch 4.00× faster first step"
    for label, note in notes.items():
        assert note == "" or re.fullmatch(
            r"(PyTorch|TensorFlow/Keras) \d+\.\d\d× (faster|less( device)? memory|"
            r"higher throughput|shorter warm-up|faster first step)",
            note,
        ), (label, note)
    bold = {label: cells for label, cells, _ in summary_rows(summary)}
    assert bold["Peak RSS (MiB)"][0].startswith("<b>") and not bold["Peak RSS (MiB)"][1].startswith(
        "<b>"
    )


def test_comparison_direction_and_more_than_two_frameworks():
    names = ["torch", "tensorflow"]
    assert comparison("peak_rss_bytes", [161.0, 100.0], names) == (
        1,
        "TensorFlow/Keras 1.61× less memory",
    )
    assert comparison("step_time_median_s", [1.2, 1.0], names) == (
        1,
        "TensorFlow/Keras 1.20× faster",
    )
    assert comparison("samples_per_s", [1.2, 1.0], names) == (0, "PyTorch 1.20× higher throughput")
    assert comparison("samples_per_s", [1.0, 1.001], names) == (None, "about the same")
    assert comparison("samples_per_s", [1.0, None], names) == (None, "")
    assert comparison("final_train_loss", [1.0, 2.0], names) == (None, "")
    # a third column: the best against the runner-up, named, since "than which?" is no longer
    # obvious
    best, text = comparison("step_time_median_s", [3.0, 2.0, 1.0], [*names, "keras_jax"])
    assert best == 2 and text == "keras_jax 2.00× faster than TensorFlow/Keras"


def test_init_and_optimizer_rows_in_the_cli_table_and_the_report(tmp_path):
    summary = {
        "project": "iris-like",
        "schedule": "parallel",
        "init": "native",
        "optimizer": "matched",
        "frameworks": iris_like(),
        "parity": None,
        "notes": [],
    }
    assert [(label, text) for label, text, _ in run_rows(summary)] == [
        ("Init", "native (each framework's own)"),
        ("Optimizer math", "matched (Keras formulas)"),
    ]
    text = _summary_text(summary)
    lines = text.splitlines()
    assert any(re.match(r"Init \[1\] +native \(each framework's own\)$", line) for line in lines), (
        text
    )
    assert any(
        re.match(r"Optimizer math \[2\] +matched \(Keras formulas\)$", line) for line in lines
    ), text
    samples_line = next(line for line in lines if line.startswith("Samples/s ["))
    assert samples_line.endswith("PyTorch 1.13× higher throughput")
    # footnotes say how each row is computed
    marks = {label: i + 1 for i, (label, _) in enumerate(footnotes())}
    assert f"[{marks['Samples/s']}] Samples/s: {ROW_HELP['samples_per_s']}" in lines
    assert "median step time" in ROW_HELP["samples_per_s"]
    page = write_report(summary, tmp_path).read_text(encoding="utf-8")
    assert "native (each framework&#x27;s own)" in page and "matched (Keras formulas)" in page
    assert "PyTorch 1.61× less memory" in page and "PyTorch 1.13× higher throughput" in page
    assert 'id="note' in page and "mean samples per steady step" in page
    # an older summary.json without "optimizer" ran the optimizer math of its init
    assert run_rows({"init": "native"})[1][1] == "native (stock)"
