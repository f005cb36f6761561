"""What the status bar says about the machine, found without importing any framework."""

from __future__ import annotations

import os
import shutil
import sys
from importlib import metadata

from engine.child_process import is_frozen

# Distribution names under which each framework may be installed.
_DISTS = {
    "PyTorch": ("torch",),
    "TensorFlow": (
        "tensorflow",
        "tensorflow-cpu",
        "tensorflow-gpu",
        "tensorflow-intel",
        "tensorflow-macos",
        "tf-nightly",
    ),
}
# Also in the system details (Help > About, bug reports): what the Keras runtimes run on. The
# status bar keeps to the two above, for its width.
_MORE_DISTS = {"Keras": ("keras",), "JAX": ("jax",)}


def framework_version(name: str) -> str | None:
    """The installed version of 'PyTorch', 'TensorFlow', 'Keras' or 'JAX' from package metadata,
    or None."""
    for dist in {**_DISTS, **_MORE_DISTS}[name]:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions_text() -> str:
    parts = []
    for name in _DISTS:
        version = framework_version(name)
        parts.append(f"{name} {version}" if version else f"{name} not installed")
    return " · ".join(parts)


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def nvidia_smi() -> str | None:
    return shutil.which("nvidia-smi")


def parse_gpu_list(text: str) -> list[str]:
    """GPU names from `nvidia-smi -L` ('GPU 0: NVIDIA H100 80GB HBM3 (UUID: ...)')."""
    names = []
    for line in text.splitlines():
        if line.startswith("GPU ") and ":" in line:
            names.append(line.split(":", 1)[1].split("(UUID")[0].strip())
    return names


def app_version() -> str:
    """TwinTrain's own version from its package metadata (bundled too: packaging/twintrain.spec)."""
    try:
        return metadata.version("twintrain")
    except metadata.PackageNotFoundError:
        return "unknown (not installed as a package)"


def report_text(gpus: list[str] | None = None) -> str:
    """System details for a problem report; the frameworks' versions come from package metadata
    (never imported here)."""
    import platform

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    lines = [
        f"TwinTrain {app_version()}",
        f"Python {platform.python_version()} "
        f"({platform.python_implementation()}, {sys.executable})",
        f"Qt {qVersion()}, PySide6 {pyside_version}",
    ]
    for name in (*_DISTS, *_MORE_DISTS):
        lines.append(f"{name} {framework_version(name) or 'not installed'}")
    lines.append(f"OS {platform.platform()}")
    lines.append(
        f"CPU {platform.machine()}, {cpu_cores()} cores available ({os.cpu_count()} in the machine)"
    )
    if gpus:
        gpu_text = ", ".join(gpus)
    else:
        gpu_text = "none found" if not nvidia_smi() else "not probed or none found"
    lines.append(f"GPU {gpu_text}")
    lines.append(f"Bundle {'frozen (PyInstaller)' if is_frozen() else 'from source'}")
    return "\n".join(lines)
