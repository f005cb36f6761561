"""Every job compiles cold: torch.compile's on-disk caches live in a folder of the job's own.

Inductor keeps its FX graphs, AOTAutograd graphs and compiled C++/Triton kernels in
``/tmp/torchinductor_<user>`` across processes, so a model compiled before compiled again from
that cache, and a run's ``compile_s`` depended on what had run on the machine before (sine_gru,
Keras on PyTorch ``compile``: 39 s cold, 5 s from the cache), while XLA (TensorFlow) and JAX keep
no compiled program on disk unless asked to. With a folder per job, removed after it, every
column's compile time is what a new machine pays (less the C++ compiler's precompiled header,
which Inductor keeps in its default folder whatever the setting: the same for every model, a
machine builds it once), and nothing piles up in /tmp (the suite had left 3.5 GB there). A
worker that exits the moment its session closes its stdin can leave its folder behind, so each
new job first removes the folders of workers no longer running (the pid is in the name).

No framework is imported here: the worker wraps every job, whatever its runtime.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator

import psutil

INDUCTOR_CACHE_ENV = "TORCHINDUCTOR_CACHE_DIR"
PREFIX = "twintrain-compile-"
SHARED_ENV = "TWINTRAIN_COMPILE_CACHE"  # tests only: one kept folder for every job


@contextlib.contextmanager
def cold_compile_caches() -> Iterator[str]:
    """A new, empty Inductor cache folder for the block (its path), removed afterwards; the
    previous setting is restored and Inductor's in-memory caches are cleared on both sides.
    With ``$TWINTRAIN_COMPILE_CACHE`` set (tests only, docs/cli.md) every job shares that folder
    and it is kept, so a graph that many tests compile is compiled once per test run."""
    shared = os.environ.get(SHARED_ENV)
    if shared:
        os.makedirs(shared, exist_ok=True)
        with _inductor_cache(shared):
            yield shared
        return
    _remove_orphans()
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    try:
        with _inductor_cache(folder):
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _inductor_cache(folder: str) -> Iterator[None]:
    """Inductor's cache in ``folder`` for the block, nothing of another folder in memory."""
    previous = os.environ.get(INDUCTOR_CACHE_ENV)
    os.environ[INDUCTOR_CACHE_ENV] = folder
    _clear_in_memory()
    try:
        yield
    finally:
        _clear_in_memory()
        if previous is None:
            os.environ.pop(INDUCTOR_CACHE_ENV, None)
        else:
            os.environ[INDUCTOR_CACHE_ENV] = previous


def _remove_orphans() -> None:
    """The folders of workers that ended without removing theirs."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            pid = entry.name[len(PREFIX) :].partition("-")[0]
            if entry.name.startswith(PREFIX) and pid.isdigit() and not psutil.pid_exists(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)


def _clear_in_memory() -> None:
    """Inductor's per-process caches of loaded kernels and graphs (only if torch loaded it)."""
    utils = sys.modules.get("torch._inductor.utils")
    clear = getattr(utils, "clear_caches", None)
    if callable(clear):
        clear()
