"""Every runtime installed here trains on a GPU as it does on the CPU: the same forward pass in
full float32 (no TF32 in any column), the same losses over the training cases, peak device memory
reported. Skipped where no NVIDIA GPU is present; on the GPU machine each runtime that is not
installed there (TensorFlow, say) is skipped by name.

Each device's run is its own backend_worker.py process, both at once; this process imports no
framework.
"""

from __future__ import annotations

import subprocess
import sys

import backend_cases as cases
import numpy as np
import pytest
from worker_jobs import ROOT, WORKER, worker_env

from engine.runtimes import RUNTIMES, missing_packages
from engine.session import gpu_present

FORWARD_TOL = 1e-5  # full float32 on both; TF32 would differ by about 1e-3
LOSS_TOL = 1e-3  # 20 steps apart, summed in other orders on the GPU


def _run(framework: str, device: str, dest) -> subprocess.Popen:
    env = worker_env()
    if device == "cuda":
        env.pop("CUDA_VISIBLE_DEVICES")
    return subprocess.Popen(
        [sys.executable, str(WORKER), framework, str(dest), f"device:{device}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _results(framework: str, tmp_path) -> dict[str, dict[str, np.ndarray]]:
    procs = {d: _run(framework, d, tmp_path / f"{d}.npz") for d in ("cpu", "cuda")}
    out = {}
    for device, proc in procs.items():
        log, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{framework} on {device}:\n{log[-3000:]}"
        with np.load(tmp_path / f"{device}.npz") as data:
            out[device] = {k: data[k] for k in data.files}
    return out


@pytest.mark.gpu
@pytest.mark.skipif(not gpu_present(), reason="needs a CUDA device")
@pytest.mark.parametrize("framework", sorted(RUNTIMES))
def test_training_on_the_gpu_matches_the_cpu(framework, tmp_path):
    if missing_packages(framework):
        pytest.skip(f"{framework} is not installed here: {missing_packages(framework)}")
    got = _results(framework, tmp_path)
    for name in cases.CUDA:
        cpu, gpu = (got[d][f"{name}|forward"].astype(np.float64) for d in ("cpu", "cuda"))
        scale = max(1.0, float(np.max(np.abs(cpu))))
        assert float(np.max(np.abs(gpu - cpu))) <= FORWARD_TOL * scale, (framework, name)
        losses = {d: got[d][f"{name}|losses"] for d in ("cpu", "cuda")}
        assert len(losses["cuda"]) == len(cases.batches_for(name, cases.TRAIN[name]))
        assert float(np.max(np.abs(losses["cuda"] - losses["cpu"]))) < LOSS_TOL, (framework, name)
        assert int(got["cuda"][f"{name}|peak"]) > 0, (framework, name)
        assert int(got["cpu"][f"{name}|peak"]) == -1, (framework, name)
