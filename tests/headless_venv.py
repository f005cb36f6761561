"""Build the headless test venv (`make test-headless`): the project's venv without Qt.

A copy of ``.venv`` made of hard links (seconds and no extra disk, where a fresh install of the
same 2.8 GB of wheels took minutes), from which pip then uninstalls PySide6, shiboken6,
pyqtgraph and pytest-qt, the packages only the desktop app and its tests need. So the engine is
tested against exactly the versions the app runs with, minus Qt. pip removes a file by
unlinking it, which leaves the original venv's link intact; console scripts, whose first line
names the original venv's Python, are rewritten (a new file, not the shared one).

    python tests/headless_venv.py .venv .venv-headless
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Distributions only the desktop app (and its GUI tests) needs.
QT = ("PySide6-Essentials", "PySide6", "shiboken6", "pyqtgraph", "pytest-qt")


def link_tree(src: Path, dst: Path) -> None:
    """``cp -al``: directories made anew, files hard-linked, symlinks copied as links."""
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in [*files, *(d for d in dirs if (Path(root) / d).is_symlink())]:
            source, target = Path(root) / name, dst / rel / name
            if source.is_symlink():
                target.symlink_to(os.readlink(source))
            else:
                os.link(source, target)


def rewrite_shebangs(bin_dir: Path, old: str, new: str) -> int:
    """Point the copied console scripts at the copy's Python; returns how many were rewritten."""
    count = 0
    for script in bin_dir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        first, sep, rest = data.partition(b"\n")
        if not first.startswith(b"#!") or old.encode() not in first:
            continue
        script.unlink()  # breaks the hard link: the original venv's script stays as it was
        script.write_bytes(first.replace(old.encode(), new.encode()) + sep + rest)
        script.chmod(0o755)
        count += 1
    return count


def build(src: Path, dst: Path) -> None:
    src, dst = src.absolute(), dst.absolute()
    if not (src / "pyvenv.cfg").is_file():
        raise SystemExit(f"{src} is not a virtual environment (run `make setup` first)")
    if dst.exists():
        shutil.rmtree(dst)
    link_tree(src, dst)
    for stamp in dst.glob(".twintrain-*"):
        stamp.unlink()
    rewrite_shebangs(dst / "bin", str(src / "bin"), str(dst / "bin"))
    subprocess.run(
        [str(dst / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q", *QT], check=True
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python tests/headless_venv.py SOURCE_VENV HEADLESS_VENV")
    build(Path(sys.argv[1]), Path(sys.argv[2]))
