"""Runs backend_worker.py once per (framework, sections) job, all at once, and gathers the arrays
they report: each framework in its own process, none in the test process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

WORKER = Path(__file__).with_name("backend_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def worker_env() -> dict[str, str]:
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0", CUDA_VISIBLE_DEVICES=""
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_python(code: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -c CODE ARGS`` in a process of its own (frameworks never in the test process),
    from the repository root with the workers' environment; output captured as text."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_jobs(jobs, tmp: Path, timeout: float = 900) -> dict[str, dict[str, np.ndarray]]:
    """{framework: {key: array}} from every job; a failed job fails with the tail of its log."""
    procs = []
    for i, (framework, sections) in enumerate(jobs):
        dest = tmp / f"{i}_{framework}.npz"
        cmd = [sys.executable, str(WORKER), framework, str(dest), sections]
        procs.append(
            (
                framework,
                dest,
                subprocess.Popen(
                    cmd,
                    cwd=ROOT,
                    env=worker_env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    out: dict[str, dict[str, np.ndarray]] = {}
    for framework, dest, proc in procs:
        log, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"{framework} worker failed:\n{log[-4000:]}"
        with np.load(dest) as data:
            out.setdefault(framework, {}).update({k: data[k] for k in data.files})
    return out
