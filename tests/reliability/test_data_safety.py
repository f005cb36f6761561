"""Data safety under SIGKILL: saves are atomic (the old file or the whole new one, never half),
a killed GUI's autosave is recovered on the next start, and a killed `twintrain train` leaves
a run folder with everything measured so far and no worker behind.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from engine.spec import read_project
from tests.reliability.conftest import PYTHON, ROOT, alive, child_env, live_children, wait_for

GUI_CHILD = str(Path(__file__).with_name("gui_child.py"))

WRITER = """
import sys
from engine.spec.project import write_atomic
target, size = sys.argv[1], int(sys.argv[2])
try:
    n = int(open(target, encoding="utf-8").read(16).split()[1])
except (OSError, IndexError, ValueError):
    n = 0
while True:
    n += 1
    text = f"gen {n:08d}\\n" + chr(97 + n % 26) * size + f"\\nend {n:08d}\\n"
    print(f"writing {n}", flush=True)
    write_atomic(target, text)
    print(f"wrote {n}", flush=True)
"""


def intact_generation(path: Path, size: int) -> int:
    """The generation a complete file holds; fails on a partial or mixed file."""
    text = path.read_text(encoding="utf-8")
    head, body, tail = text[:13], text[13:-14], text[-14:]
    n = int(head.split()[1])
    assert head == f"gen {n:08d}\n" and tail == f"\nend {n:08d}\n", (head, tail)
    assert body == chr(97 + n % 26) * size, "the body is not one generation's"
    return n


def read_lines_until(proc: subprocess.Popen, predicate, timeout: float = 60.0) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if predicate(lines[-1]):
            return lines
    raise AssertionError(f"child never got there: {lines[-5:]}")


def test_kill_during_write_atomic_keeps_the_old_or_the_new_file(tmp_path):
    """20 SIGKILLs at random points while a process rewrites a 12 MB file with write_atomic."""
    size = 12 * 2**20
    target = tmp_path / "big.twintrain.json"
    rng = random.Random(8)
    mid_write, last = 0, 0
    target.write_text(f"gen {0:08d}\n" + "a" * size + f"\nend {0:08d}\n", encoding="utf-8")
    for _kill in range(20):
        proc = subprocess.Popen(
            [PYTHON, "-c", WRITER, str(target), str(size)],
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        try:
            want = last + rng.randint(1, 3)
            lines = read_lines_until(
                proc, lambda line, w=want: line.startswith("writing") and int(line.split()[1]) >= w
            )
            time.sleep(rng.uniform(0.0, 0.08))  # a 12 MB write with fsync takes about that long
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
            lines += proc.stdout.read().splitlines()
            proc.stdout.close()
        kind, n = lines[-1].split()
        found = intact_generation(target, size)  # complete, whatever the moment of the kill
        if kind == "writing":  # killed during write_atomic(n): the old file or the whole new one
            mid_write += 1
            assert found in (int(n) - 1, int(n)), (lines[-1], found)
        else:
            assert found == int(n)
        last = found
        names = [p.name for p in tmp_path.iterdir()]
        assert all(
            name == target.name or (name.startswith(f".{target.name}.") and name.endswith(".tmp"))
            for name in names
        ), names
    assert mid_write >= 10  # most kills landed while a write was in flight
    assert last >= 20


def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    """A save killed mid-write leaves its temp file; the next save of that file removes it once
    it is stale (10 minutes untouched), and never a temp file another writer may be filling."""
    from engine.spec.project import STALE_TEMP_S, write_atomic

    target = tmp_path / "net.twintrain.json"
    stale = tmp_path / f".{target.name}.k1ll3d.tmp"
    fresh = tmp_path / f".{target.name}.wr1t1ng.tmp"
    other = tmp_path / ".other.twintrain.json.k1ll3d.tmp"
    for leftover in (stale, fresh, other):
        leftover.write_text("half a file", encoding="utf-8")
    old = time.time() - STALE_TEMP_S - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert not stale.exists()
    assert (
        fresh.exists() and other.exists()
    )  # a writer may be filling it; another file's is not ours


def test_gui_killed_while_saving_keeps_the_old_file(tmp_path):
    """A real GUI process saving an 8 MB project again and again, SIGKILLed mid-save, 3 times."""
    project = tmp_path / "big.twintrain.json"
    doc = json.loads((ROOT / "presets" / "xor_mlp.twintrain.json").read_text(encoding="utf-8"))
    doc["x-blob"] = "b" * (8 * 2**20)
    project.write_text(json.dumps(doc), encoding="utf-8")
    rng = random.Random(3)
    mid_save = 0
    for round_ in range(3):
        proc = subprocess.Popen(
            [PYTHON, GUI_CHILD, "save-loop", str(project)],
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(TWINTRAIN_DATA_DIR=str(tmp_path / "userdata")),
            cwd=tmp_path,
        )
        try:
            lines = read_lines_until(proc, lambda line: line.startswith("saved 3"), 120)
            took = [
                float(b.split()[2]) - float(a.split()[2])
                for a, b in zip(lines, lines[1:])
                if a.startswith("saving") and b.startswith("saved")
            ]
            assert all(line.endswith("True") for line in lines if line.startswith("saved")), lines
            target = rng.randint(4, 6)
            read_lines_until(proc, lambda line, t=target: line.startswith(f"saving {t} "))
            time.sleep(rng.uniform(0.1, 0.9) * min(took))
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
            rest = proc.stdout.read().splitlines()
            proc.stdout.close()
        kind, n = (rest or [f"saving {target} 0"])[-1].split()[
            :2
        ]  # the child's last word before the kill
        saved = read_project(project)  # loads: complete and valid
        if kind == "saving":  # killed inside save_to(n): the old file or the whole new one
            mid_save += 1
            assert saved.name in (f"gen {int(n) - 1}", f"gen {n}"), (round_, saved.name, kind, n)
        else:
            assert saved.name == f"gen {n}", (round_, saved.name, kind, n)
        assert saved.extras["x-blob"] == "b" * (8 * 2**20)
        assert saved.layers[0].params["units"] == 16
    assert mid_save >= 2  # the kill landed inside save_to (between 'saving' and 'saved')
    assert live_children() == []


def test_autosave_is_recovered_after_the_gui_is_killed(tmp_path, data_dir, win, gui, qtbot):
    """Edit in a real GUI process, let its autosave timer write, SIGKILL it; the next window
    (this test's) offers the autosave and recovers the edit, and the project file is untouched."""
    project = tmp_path / "xor.twintrain.json"
    project.write_bytes((ROOT / "presets" / "xor_mlp.twintrain.json").read_bytes())
    before = project.read_bytes()
    assert os.environ["TWINTRAIN_DATA_DIR"] == str(data_dir)
    proc = subprocess.Popen(
        [PYTHON, GUI_CHILD, "autosave", str(project)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=tmp_path,
    )
    try:
        lines = read_lines_until(proc, lambda line: line.startswith("autosaved"), 120)
        autosave = Path(lines[-1].split(" ", 1)[1])
        assert (
            autosave.name == f"autosave-{proc.pid}.json"
            and autosave.parent == data_dir / "autosave"
        )
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert autosave.exists() and project.read_bytes() == before

    gui.answers = [QMessageBox.StandardButton.Yes]
    assert win.offer_recovery() is True
    assert (
        "did not close normally" in gui.questions[-1] and "xor.twintrain.json" in gui.questions[-1]
    )
    assert win.doc.layer("h1").params["units"] == 23
    assert win.doc.path == project.resolve()
    assert win.doc.is_modified
    assert not autosave.exists()  # taken over: this window autosaves under its own pid now
    assert (
        win.autosaver.file.exists()
        and json.loads(win.autosaver.file.read_text())["project"]["model"]["layers"][0]["units"]
        == 23
    )
    assert project.read_bytes() == before


@pytest.mark.parametrize("frameworks", ["torch,tensorflow"])
def test_killed_cli_run_keeps_what_was_measured(tmp_path, frameworks):
    """SIGKILL `twintrain train` mid-run: metrics.csv has every row written so far, summary.json
    (written at each epoch) is valid, and the workers exit by themselves (their stdin closed)."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gui.launch",
            "train",
            "xor_mlp",
            "--epochs",
            "400",
            "--frameworks",
            frameworks,
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(),
        cwd=tmp_path,
    )
    try:

        def progress() -> dict[str, int]:
            counts = {f: 0 for f in frameworks.split(",")}
            try:
                with open(out / "metrics.csv", encoding="utf-8") as fh:
                    for line in fh.readlines()[1:]:
                        fw = line.split(",", 1)[0]
                        if fw in counts:
                            counts[fw] += 1
            except OSError:
                pass
            return counts

        def summarized() -> (
            bool
        ):  # summary.json is rewritten during the run (at most once a second)
            try:
                figures = json.loads((out / "summary.json").read_text(encoding="utf-8"))[
                    "frameworks"
                ]
            except (OSError, ValueError):
                return False
            return all(figures[f]["steps"] > 0 for f in frameworks.split(","))

        assert wait_for(lambda: min(progress().values()) >= 100 and summarized(), 120, 0.05), (
            proc.stderr.read1().decode() if proc.poll() is not None else progress()
        )
        workers = [p.pid for p in live_children() if "engine.worker" in " ".join(p.cmdline())]
        assert len(workers) == len(frameworks.split(","))
        seen = progress()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert wait_for(lambda: not alive(workers), 10), "workers outlived the killed CLI"

    with open(out / "metrics.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header == [
        "framework",
        "epoch",
        "step",
        "loss",
        "step_time_s",
        "samples_per_s",
        "rss_bytes",
        "device_bytes",
    ]
    complete = body if len(body[-1]) == 8 else body[:-1]  # the kill may cut the last line short
    for fw, n in seen.items():
        steps = [int(r[2]) for r in complete if r[0] == fw]
        assert len(steps) >= n - 1 and steps == list(range(1, len(steps) + 1)), fw
        assert all(float(r[3]) > 0 and float(r[4]) > 0 for r in complete if r[0] == fw)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["format"] == "twintrain-run/1"
    for fw in seen:
        assert summary["frameworks"][fw]["steps"] > 0
        assert summary["frameworks"][fw]["status"] in ("running", "starting", "ready", "paused")
    epochs = list(csv.reader((out / "epochs.csv").read_text(encoding="utf-8").splitlines()))[1:]
    assert {r[0] for r in epochs if len(r) == 6} == set(seen)
    assert (out / "project.twintrain.json").is_file() and read_project(
        out / "project.twintrain.json"
    ).name == "xor-mlp"
