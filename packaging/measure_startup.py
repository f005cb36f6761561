"""Start-up of the packaged app to a shown, idle main window (goal: under 3 s cold).

Launches dist/twintrain/twintrain (the default preset) several times and times, from process
launch, until the app reports that the canvas has painted and the event queue is empty
(TWINTRAIN_SMOKE=ready). Cold runs first evict every file of the bundle from the page cache
(posix_fadvise DONTNEED, Linux), so the bootloader, Python, Qt and numpy are read from disk
again. Prints figures; never passes or fails.

    .venv/bin/python packaging/measure_startup.py [--bundle dist/twintrain] [--runs 5]
        [--platform offscreen|xcb]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def evict(bundle: Path) -> int:
    """Drop the bundle's cached pages; returns how many files were evicted."""
    if not hasattr(os, "posix_fadvise"):
        return 0
    count = 0
    for path in bundle.rglob("*"):
        if not path.is_file() or path.is_symlink():
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


def one_run(exe: Path, platform: str, data_dir: str) -> float:
    env = dict(
        os.environ, TWINTRAIN_SMOKE="ready", TWINTRAIN_DATA_DIR=data_dir, QT_QPA_PLATFORM=platform
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
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
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "twintrain")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--platform", default="offscreen", choices=["offscreen", "xcb"])
    args = parser.parse_args()
    exe = args.bundle / "twintrain"
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as data_dir:
        for _ in range(max(args.runs // 2, 1)):
            evicted = evict(args.bundle)
            cold.append(one_run(exe, args.platform, data_dir))
        for _ in range(max(args.runs, 1)):
            warm.append(one_run(exe, args.platform, data_dir))
    print(
        "packaged app start-up to shown idle window "
        f"({args.platform}, {os.cpu_count()} cpus, {exe})"
    )
    print(
        f"  cold (page cache of the bundle's {evicted} files evicted): "
        f"median {statistics.median(cold):.3f} s, "
        f"max {max(cold):.3f} s ({len(cold)} runs)"
    )
    print(
        f"  warm: median {statistics.median(warm):.3f} s, min {min(warm):.3f} s, "
        f"max {max(warm):.3f} s ({len(warm)} runs)"
    )


if __name__ == "__main__":
    main()
