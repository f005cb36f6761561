"""Cold start of the desktop app to a shown, idle main window, against a bare window.

Launches `twintrain` (the default preset) in a fresh interpreter several times and times, from
process launch, until the app reports that the canvas has painted and the event queue is empty
(TWINTRAIN_SMOKE=ready). The baseline, measured in the same run and interleaved with the app
(so machine drift falls on both alike), is a bare PySide6 window holding one pyqtgraph plot,
timed the same way to its first paint; the goal is the app within 1.3x of it. The first run is
made cold by evicting the Qt, numpy and Python
library files from the page cache (posix_fadvise DONTNEED; Linux only). Prints figures; never
passes or fails.

    .venv/bin/python bench/gui_startup.py [--runs 5] [--platform offscreen|xcb]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def evict_page_cache() -> int:
    """Drop cached pages of the libraries start-up reads; returns how many files were evicted."""
    if not hasattr(os, "posix_fadvise"):
        return 0
    site = Path(sysconfig.get_paths()["purelib"])
    roots = [
        site / name
        for name in ("PySide6", "shiboken6", "numpy", "numpy.libs", "psutil", "platformdirs")
    ]
    roots.append(Path(sysconfig.get_paths()["stdlib"]))
    count = 0
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.suffix not in (".so", ".py", ".pyc") and ".so." not in path.name:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                count += 1
            finally:
                os.close(fd)
    return count


APP = "import sys; from gui.launch import main; sys.exit(main([]))"
# The same end point as the app's TWINTRAIN_SMOKE=ready: first paint, then an empty event queue.
BARE = """
import sys
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
win = QMainWindow()
plot = pg.PlotWidget()
plot.plot([0, 1, 2], [0, 1, 0])
win.setCentralWidget(plot)
win.resize(1280, 800)
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, lambda: (print("twintrain: ready", flush=True), app.quit()))
        return False
plot.viewport().installEventFilter(FirstPaint(win))
win.show()
app.exec()
"""


def one_run(platform: str, data_dir: str, code: str = APP) -> float:
    env = dict(
        os.environ, TWINTRAIN_SMOKE="ready", TWINTRAIN_DATA_DIR=data_dir, QT_QPA_PLATFORM=platform
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in proc.stdout:
        if line.strip() == "twintrain: ready":
            elapsed = time.perf_counter() - start
            break
    else:
        proc.wait()
        raise SystemExit(f"it exited (rc {proc.returncode}) without reporting ready")
    proc.wait(timeout=30)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--platform", default="offscreen", choices=["offscreen", "xcb"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        evicted = evict_page_cache()
        cold = one_run(args.platform, data_dir)
        warm, bare = [], []
        for _ in range(max(args.runs - 1, 1)):  # interleaved: drift falls on both alike
            bare.append(one_run(args.platform, data_dir, BARE))
            warm.append(one_run(args.platform, data_dir))
    print(f"gui start-up to shown idle window ({args.platform}, {os.cpu_count()} cpus)")
    print(f"  cold (page cache of {evicted} library files evicted): {cold:.3f} s")
    for name, times in (("app, warm", warm), ("bare PySide6 + one pyqtgraph plot", bare)):
        print(
            f"  {name}: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
            f"max {max(times):.3f} s ({len(times)} runs)"
        )
    ratio = statistics.median(warm) / statistics.median(bare)
    print(f"  app / bare: {ratio:.2f}x (goal: within 1.3x)")


if __name__ == "__main__":
    main()
