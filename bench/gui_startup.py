"""Cold start of the desktop app to a shown, idle main window (target: under 1.5 s).

Launches `twintrain` (the default preset) in a fresh interpreter several times and times, from
process launch, until the app reports that the canvas has painted and the event queue is empty
(TWINTRAIN_SMOKE=ready). The first run is made cold by evicting the Qt, numpy and Python
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


def one_run(platform: str, data_dir: str) -> float:
    env = dict(
        os.environ, TWINTRAIN_SMOKE="ready", TWINTRAIN_DATA_DIR=data_dir, QT_QPA_PLATFORM=platform
    )
    code = "import sys; from gui.launch import main; sys.exit(main([]))"
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
        raise SystemExit(f"the app exited (rc {proc.returncode}) without reporting ready")
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
        warm = [one_run(args.platform, data_dir) for _ in range(max(args.runs - 1, 1))]
    print(f"gui start-up to shown idle window ({args.platform}, {os.cpu_count()} cpus)")
    print(f"  cold (page cache of {evicted} library files evicted): {cold:.3f} s")
    print(
        f"  warm: median {statistics.median(warm):.3f} s, min {min(warm):.3f} s, max {max(warm):.3f} s ({len(warm)} runs)"
    )
    print("  target: under 1.5 s")


if __name__ == "__main__":
    main()
