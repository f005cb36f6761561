"""A short soak: bench/soak.py with 4 Session start/stop cycles and 2 from the main window (10
and 4 with TWINTRAIN_LONG_TESTS=1), at random stop points (while importing, building or
training; seed 3 stops the sessions in every phase, and one GUI run while training). No
process, file descriptor or thread may be left, no cycle may end in an error, and the GUI
process' RSS may not grow by 50 MB. The full soak (200 + 50 cycles) is `python bench/soak.py`;
its figures are in README.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.long_runs import LONG
from tests.reliability.conftest import PYTHON, ROOT, child_env

pytestmark = pytest.mark.slow  # about a minute: every cycle starts real framework workers
SESSION_CYCLES, GUI_CYCLES = (10, 4) if LONG else (4, 2)


def test_short_soak_leaks_nothing(tmp_path):
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [
            PYTHON,
            str(ROOT / "bench" / "soak.py"),
            "--cycles",
            str(SESSION_CYCLES),
            "--gui-cycles",
            str(GUI_CYCLES),
            "--seed",
            "3",
            "--training-share",
            "0.4",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=child_env(TWINTRAIN_DATA_DIR=str(tmp_path / "data")),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    for kind, cycles in (("session", SESSION_CYCLES), ("gui", GUI_CYCLES)):
        f = figures[kind]
        assert f["cycles"] == cycles
        assert f["failed_cycles"] == 0, f["failures"]
        assert f["leftover_after_cycle"] == 0
        assert (f["leaked_processes"], f["leaked_fds"], f["leaked_threads"]) == (0, 0, 0), f
        assert f["stopped_while_training"] >= f["by_phase"]["training"] >= 1
    assert figures["gui"]["rss_max_growth_mb"] < 50
    assert (
        figures["gui"]["min_ticks_per_s"] > 20
    )  # the window kept processing events in every cycle
    assert "leaked after the soak: processes 0, file descriptors 0" in proc.stdout
