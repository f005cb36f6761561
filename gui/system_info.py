"""What the status bar says about the machine, found without importing any framework."""

from __future__ import annotations

import os
import shutil
from importlib import metadata

# Distribution names under which each framework may be installed.
_DISTS = {
    "PyTorch": ("torch",),
    "TensorFlow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly"),
}


def framework_version(name: str) -> str | None:
    """The installed version of 'PyTorch' or 'TensorFlow' from package metadata, or None."""
    for dist in _DISTS[name]:
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
