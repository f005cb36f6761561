"""Deployment compared (docs/deploy.md): every exported model file loaded, timed and checked
in its runtime, each in a child process, against the trained model in its own framework.

``run_benchmark(folder, ...)`` is what the CLI (`twintrain bench-export`) and the desktop app
call; this package's ``__init__`` and orchestrator import no framework and no matplotlib.
"""

from __future__ import annotations

from engine.deploy.benchmark import (
    CHART_FILE,
    DEPLOY_FILE,
    BenchmarkCancelled,
    chart_path,
    output_dir,
    run_benchmark,
)

__all__ = [
    "CHART_FILE",
    "DEPLOY_FILE",
    "BenchmarkCancelled",
    "chart_path",
    "output_dir",
    "run_benchmark",
]
