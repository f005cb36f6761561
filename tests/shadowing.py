"""A user folder full of files named like modules, for the worker-isolation tests."""

from pathlib import Path

# Modules a worker would import, and run, if it had the user's folder on sys.path.
SHADOWING_MODULES = ("bisect", "random", "torch", "keras")


def shadowing_folder(path: Path) -> Path:
    """A folder holding bisect.py, random.py, torch.py and keras.py that each leave a marker
    file when imported: a process started there must import none of them."""
    path.mkdir(parents=True, exist_ok=True)
    for name in SHADOWING_MODULES:
        (path / f"{name}.py").write_text(
            f"import pathlib\npathlib.Path(__file__).with_name('{name}.imported').write_text('x')\n"
        )
    return path


def shadowing_markers(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("*.imported"))
