"""Build the one-folder app bundle (dist/twintrain/) from packaging/twintrain.spec.

Run by `make package` with the project's venv Python. Prints the build time, the bundle size
and its biggest parts (the table in packaging/README.md comes from this output).

    .venv/bin/python packaging/build.py [--clean]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
BUNDLE = DIST / "twintrain"
SIZE_GOAL_BYTES = 1.8e9


def tree_bytes(path: Path) -> tuple[int, int]:
    """Bytes and number of files under ``path`` (symlinks counted as links, not followed)."""
    total = count = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = Path(root, name)
            total += p.lstat().st_size
            count += 1
    return total, count


def biggest_parts(bundle: Path, n: int = 12) -> list[tuple[str, int]]:
    """The largest top-level entries of _internal (packages, their .libs, single libraries)."""
    internal = bundle / "_internal"
    parts = []
    for entry in internal.iterdir():
        size = (
            tree_bytes(entry)[0]
            if entry.is_dir() and not entry.is_symlink()
            else entry.lstat().st_size
        )
        parts.append((entry.name, size))
    parts.sort(key=lambda p: -p[1])
    return parts[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clean", action="store_true", help="empty PyInstaller's cache and work folder first"
    )
    args = parser.parse_args()
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(WORK),
        str(ROOT / "packaging" / "twintrain.spec"),
    ]
    if args.clean:
        cmd.insert(3, "--clean")
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="3"
    )  # analysis imports TF; keep its banner out of the log
    print("building the app bundle:", " ".join(cmd), flush=True)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        print(
            f"package: PyInstaller failed (exit {result.returncode}) after {elapsed:.0f} s",
            file=sys.stderr,
        )
        return result.returncode
    total, files = tree_bytes(BUNDLE)
    print(f"\nbundle: {BUNDLE.relative_to(ROOT)}/ ({files} files)")
    print(f"{'part':<32}{'MB':>10}")
    for name, size in biggest_parts(BUNDLE):
        print(f"{name:<32}{size / 1e6:>10.0f}")
    print(
        f"bundle size: {total / 1e9:.2f} GB ({total / 2**30:.2f} GiB); "
        f"goal under {SIZE_GOAL_BYTES / 1e9:.1f} GB"
        + ("" if total < SIZE_GOAL_BYTES else "  ** over the goal **")
    )
    print(f"build time: {int(elapsed // 60)} min {elapsed % 60:.0f} s")
    print(
        f"launch: {BUNDLE.relative_to(ROOT)}/twintrain   self-test: "
        f"QT_QPA_PLATFORM=offscreen {BUNDLE.relative_to(ROOT)}/twintrain --self-test"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
