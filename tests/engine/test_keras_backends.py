"""The Keras runtimes (keras-jax, keras-torch) train in step with torch and TensorFlow: the same
cases (keras_cases.py: MLP, CNN, Embedding+GRU/LSTM under Adam, SGD with momentum and RMSprop)
from the same initial weights on the same batches, each runtime in its own worker process."""

from __future__ import annotations

import importlib.util

import keras_cases
import numpy as np
import pytest
from worker_jobs import run_jobs, run_python

LOSS_TOL = 1e-4
WEIGHT_TOL = 1e-4  # relative to max(1, the largest |weight|)
RUNTIMES = ("tensorflow", "keras-jax", "keras-torch")  # each compared with torch
CASES = keras_cases.cases()
# The module fixture trains every case in four workers, two to three minutes on a quiet 2-core
# machine and more when other jobs load it; pytest-timeout counts it in the first test's time,
# and its thread method ends the whole pytest-xdist worker, not just the test.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict[str, np.ndarray]]:
    # keras-jax's framework (keras and torch are dependencies already); looked up, not imported:
    # the pytest process stays free of frameworks (GUI tests in it assert so)
    if importlib.util.find_spec("jax") is None:
        pytest.skip('needs jax (pip install "twintrain[jax]")')
    jobs = [(rt, "keras") for rt in ("torch", *RUNTIMES)]
    return run_jobs(jobs, tmp_path_factory.mktemp("keras"))


def _weights(res: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    prefix = f"keras|{name}|w|"
    return {k[len(prefix) :]: v for k, v in res.items() if k.startswith(prefix)}


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_parity_with_torch(results, runtime, name):
    t = results["torch"][f"keras|{name}|losses"]
    r = results[runtime][f"keras|{name}|losses"]
    assert t.shape == (keras_cases.STEPS,) and np.all(np.isfinite(t))
    diff = float(np.max(np.abs(t - r)))
    assert diff < LOSS_TOL, f"{runtime} {name}: max |loss diff| {diff:.3g}"
    np.testing.assert_allclose(
        results["torch"][f"keras|{name}|evaluate"],
        results[runtime][f"keras|{name}|evaluate"],
        atol=LOSS_TOL,
        equal_nan=True,
    )
    tw, rw = _weights(results["torch"], name), _weights(results[runtime], name)
    assert set(tw) == set(rw) and tw
    for key, value in rw.items():
        scale = max(1.0, float(np.max(np.abs(value))))
        wdiff = float(np.max(np.abs(tw[key].astype(np.float64) - value)))
        assert wdiff <= WEIGHT_TOL * scale, (
            f"{runtime} {name} trained {key}: max |diff| {wdiff:.3g}"
        )


def test_worst_figures(results, capsys):
    """Prints the worst |loss diff| per runtime and case (pytest -s shows it)."""
    lines = []
    for runtime in RUNTIMES:
        worst = {
            name: float(
                np.max(
                    np.abs(
                        results["torch"][f"keras|{name}|losses"]
                        - results[runtime][f"keras|{name}|losses"]
                    )
                )
            )
            for name in CASES
        }
        top = max(worst, key=worst.get)
        lines.append(f"{runtime}: worst {worst[top]:.2e} ({top})")
        lines += [f"  {n}: {d:.2e}" for n, d in sorted(worst.items())]
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_keras_model_is_backend_neutral_and_covers_every_layer_type():
    """keras_model does not import TensorFlow (a keras-torch worker loads it), and its adapter
    table has every layer type of the registry. (Not JAX: Keras 3.15 imports jax itself, on any
    backend, whenever it is installed.)"""
    code = (
        "import os, sys; os.environ['KERAS_BACKEND'] = 'torch'\n"
        "from engine.backends.keras_model import LAYERS\n"
        "from engine.spec.layer_types import LAYER_TYPES\n"
        "assert set(LAYERS) == set(LAYER_TYPES), set(LAYERS) ^ set(LAYER_TYPES)\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_keras_jax_on_device_auto_looks_for_a_gpu_then_falls_back_to_the_cpu():
    """Keras on JAX keeps JAX to the CPU at import (no GPU probing), but a run on device auto or
    cuda lets it look for a GPU (it never could before: --device cuda always failed); where there
    is none, auto says so and trains on the CPU, cuda fails naming JAX, and JAX never takes most of
    a GPU's memory at its start (several columns share one)."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip('needs jax (pip install "twintrain[jax]")')
    code = (
        "import os\n"
        "os.environ.pop('JAX_PLATFORMS', None)\n"
        "from engine.backends import load_backend\n"
        "B = load_backend('keras-jax')\n"
        "import jax\n"
        "assert os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'] == 'false'\n"
        "assert jax.config.jax_platforms == 'cpu', jax.config.jax_platforms\n"
        "try:\n"
        "    B.resolve_device('cuda')\n"
        "except RuntimeError as e:\n"
        "    print('cuda:', e)\n"
        "print('auto:', B.resolve_device('auto'))\n"
        "print('devices:', [d.platform for d in jax.devices()])\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "cuda: device 'cuda' was asked for but JAX sees no GPU" in proc.stdout
    assert "auto: ('cpu', 'device auto: JAX sees no GPU')" in proc.stdout
    assert "devices: ['cpu']" in proc.stdout
