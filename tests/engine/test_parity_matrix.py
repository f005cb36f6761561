"""Matched mode holds for every (layer type, optimizer) cell: parity_matrix.py generates the cells
from the registry and the optimizer list; one worker per framework runs them all (TensorFlow's
share split in two so three processes keep two cores busy) and this process compares.
"""

from __future__ import annotations

import numpy as np
import parity_matrix as matrix
import pytest
from worker_jobs import run_jobs

from engine.spec.layer_types import LAYER_TYPES
from engine.spec.training import OPTIMIZER_PARAMS

LOSS_TOL = 1e-4
WEIGHT_TOL = 1e-4  # relative to max(1, the largest |weight|)
CASES = matrix.cases()
JOBS = (("torch", "matrix"), ("tensorflow", "matrix:0/2"), ("tensorflow", "matrix:1/2"))
# The module fixture trains every cell (about 110 s on a quiet 2-core machine, nearly 5 min when
# other jobs load it) and pytest-timeout counts it in the first test's time; the thread method
# then ends the whole pytest-xdist worker, not just the test.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict[str, np.ndarray]]:
    return run_jobs(JOBS, tmp_path_factory.mktemp("matrix"))


def _weights(res: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    prefix = f"matrix|{name}|w|"
    return {k[len(prefix) :]: v for k, v in res.items() if k.startswith(prefix)}


def test_matrix_places_every_layer_type_under_every_optimizer():
    optimizers = matrix.optimizer_variants()
    assert set(OPTIMIZER_PARAMS) <= {o["name"] for o in optimizers.values()}
    assert {"sgd_momentum", "sgd_nesterov", "rmsprop_momentum"} <= set(optimizers)
    for t in LAYER_TYPES:
        for variant in matrix.layer_variants(LAYER_TYPES[t]):
            for oname in optimizers:
                assert f"{t}[{variant}]/{oname}" in CASES, (
                    f"no host network accepts {t} [{variant}]"
                )
    rnn = [k for k in CASES if k.startswith("LSTM[")]
    assert any("return_sequences_true" in k for k in rnn) and any("[base]" in k for k in rnn)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.expect_parity))
def test_matched_parity(results, name):
    t, f = results["torch"][f"matrix|{name}|losses"], results["tensorflow"][f"matrix|{name}|losses"]
    assert t.shape == (matrix.STEPS,) and np.all(np.isfinite(t))
    diff = float(np.max(np.abs(t - f)))
    assert diff < LOSS_TOL, (
        f"{name}: max |loss diff| over {matrix.STEPS} steps {diff:.3g} (first at step "
        f"{int(np.argmax(np.abs(t - f) > LOSS_TOL)) + 1})"
    )
    np.testing.assert_allclose(
        results["torch"][f"matrix|{name}|evaluate"],
        results["tensorflow"][f"matrix|{name}|evaluate"],
        atol=LOSS_TOL,
        equal_nan=True,
    )
    tw, fw = _weights(results["torch"], name), _weights(results["tensorflow"], name)
    assert set(tw) == set(fw) and tw
    initial = matrix.weights_for(CASES[name])
    for key, value in fw.items():
        scale = max(1.0, float(np.max(np.abs(value))))
        wdiff = float(np.max(np.abs(tw[key].astype(np.float64) - value)))
        assert wdiff <= WEIGHT_TOL * scale, f"{name} trained {key}: max |diff| {wdiff:.3g}"
        lid, wname = key.split("|")
        assert not np.array_equal(value, initial[lid][wname]), f"{name}: {key} was not trained"


def test_dropout_at_a_real_rate_parts(results):
    name = next(n for n, c in CASES.items() if not c.expect_parity)
    t, f = results["torch"][f"matrix|{name}|losses"], results["tensorflow"][f"matrix|{name}|losses"]
    assert np.all(np.isfinite(t)) and np.all(np.isfinite(f))
    assert float(np.max(np.abs(t - f))) > 1e-2, "different dropout masks should part the curves"
