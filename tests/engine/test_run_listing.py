"""Run folders read back for the Runs panel: names, times, distinguishing settings, partial runs."""

import json

from engine.past_runs import describe, distinguishing, load_past_run, run_info, set_display_name


def make_run(root, name, **summary):
    folder = root / name
    folder.mkdir()
    base = {
        "project": "untitled",
        "project_path": "/p/my.twintrain.json",
        "schedule": "parallel",
        "init": "matched",
        "optimizer": "matched",
        "device_requested": "auto",
        "frameworks": {
            "torch": {"device": "cpu", "status": "finished"},
            "tensorflow": {"device": "cpu", "error": "boom"},
        },
    }
    (folder / "summary.json").write_text(json.dumps({**base, **summary}))
    return folder


def test_name_time_settings_and_state(tmp_path):
    folder = make_run(tmp_path, "my-20261203-161523-000001")
    info = run_info(folder)
    assert info["name"] == "my" and info["time"] == "2026-12-03 16:15:23"
    assert describe(info) == (
        "my · 2026-12-03 16:15:23\n"
        "PyTorch + TF · matched init · matched optimizer · parallel · cpu · TF failed"
    )
    set_display_name(folder, "  first   try ")
    assert run_info(folder)["name"] == "first try"
    set_display_name(folder, "")
    assert run_info(folder)["name"] == "my"


def test_labels_name_only_the_settings_that_differ(tmp_path):
    a = run_info(make_run(tmp_path, "my-20261203-161523-000001"))
    b = run_info(make_run(tmp_path, "my-20261203-171002-000002", init="native", optimizer="native"))
    c = run_info(make_run(tmp_path, "my-20261203-181002-000003", schedule="sequential"))
    assert distinguishing([a, b]) == [
        "my 16:15 (matched init, matched optimizer)",
        "my 17:10 (native init, native optimizer)",
    ]
    assert distinguishing([a, c])[1] == "my 18:10 (sequential)"
    assert distinguishing([a]) == ["my 16:15"]


def test_a_crashed_run_gives_what_there_is(tmp_path):
    folder = tmp_path / "x_mlp-20261203-161523-000001"
    folder.mkdir()
    (folder / "metrics.csv").write_text(
        "framework,epoch,step,loss,step_time_s,samples_per_s,rss_bytes,device_bytes\n"
        "torch,1,1,0.5,0.001,1000.0,100,\ntorch,1,2,0.4,0.001,1000.0,100,\n"
    )
    info = run_info(folder)
    assert info["name"] == "x_mlp" and info["state"] == "incomplete"
    run = load_past_run(folder)
    assert run.summary == {} and list(run.steps["torch"]["loss"]) == [0.5, 0.4]
    assert load_past_run(tmp_path / "missing").steps == {}
