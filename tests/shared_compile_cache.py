"""The suite's compiled-mode jobs share one Inductor cache folder for the whole run.

Every job of the app and of `twintrain train` compiles cold, in a folder of its own
(engine/compile_cache.py). Dozens of the suite's jobs compile the same few graphs (xor_mlp,
breast_cancer_bn, sine_gru under ``torch.compile``); none of them checks a compile time, so the
suite sets ``$TWINTRAIN_COMPILE_CACHE`` to one folder made for the run (empty at its start, as on
a new machine) and removed at its end, and each graph is compiled once per run. A test about the
cold folders themselves (tests/engine/test_compile_cache.py) unsets it.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from engine.compile_cache import SHARED_ENV


def pytest_configure(config):
    """The xdist controller (or a plain pytest) makes the folder; its workers inherit the path."""
    if hasattr(config, "workerinput") or os.environ.get(SHARED_ENV):
        return
    os.environ[SHARED_ENV] = tempfile.mkdtemp(prefix="twintrain-test-compile-")
    config._twintrain_compile_cache = os.environ[SHARED_ENV]


def pytest_unconfigure(config):
    folder = getattr(config, "_twintrain_compile_cache", None)
    if folder:
        os.environ.pop(SHARED_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
