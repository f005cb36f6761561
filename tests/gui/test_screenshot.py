"""The screenshot script (gui/screenshot.sh runs it under Xvfb) keeps working: here it runs
offscreen and must produce a full-size picture of the window with the CNN preset open."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_script_writes_the_window(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TWINTRAIN_DATA_DIR=str(tmp_path / "data"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "gui.screenshot",
            str(out),
            "digits_cnn",
            "--select",
            "conv2",
            "--maximized",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 600  # the whole (offscreen) screen
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)
    }
    assert len(colours) > 20  # a real window, not a blank frame
