"""init_weights: the matched initial weights, in numpy (no framework needed)."""

from __future__ import annotations

import math

import backend_cases as cases
import numpy as np
import pytest

from engine.presets import list_presets
from engine.spec.graph import infer
from engine.spec.project import read_project
from engine.weights import glorot_uniform, init_weights, orthogonal

PROJECTS = {
    **{f"case_{k}": v for k, v in cases.FORWARD.items()},
    **{f"preset_{p.key}": read_project(p.path) for p in list_presets()},
}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_one_entry_per_weighted_layer_with_the_registry_count(name):
    proj = PROJECTS[name]
    graph = infer(proj, check_dataset=False)
    w = init_weights(proj, graph, seed=3)
    assert set(w) == {lid for lid in graph.order if graph.layers[lid].params}
    for lid, arrays in w.items():
        assert sum(a.size for a in arrays.values()) == graph.layers[lid].params, lid
        assert all(a.dtype == np.float32 for a in arrays.values())
    assert sum(a.size for arrays in w.values() for a in arrays.values()) == graph.params


def test_deterministic_per_seed_and_different_across_seeds():
    proj = cases.FORWARD["add_concat_graph"]
    graph = infer(proj, check_dataset=False)
    a, b, c = (init_weights(proj, graph, s) for s in (0, 0, 1))
    for lid in a:
        for key in a[lid]:
            np.testing.assert_array_equal(a[lid][key], b[lid][key])
    assert not np.array_equal(a["a"]["kernel"], c["a"]["kernel"])


def test_a_layer_keeps_its_weights_when_another_layer_is_added():
    base = cases.project([6], [{"id": "x", "type": "Dense", "units": 4}])
    more = cases.project(
        [6], [{"id": "x", "type": "Dense", "units": 4}, {"id": "y", "type": "Dense", "units": 2}]
    )
    wa = init_weights(base, infer(base, check_dataset=False), 0)
    wb = init_weights(more, infer(more, check_dataset=False), 0)
    np.testing.assert_array_equal(wa["x"]["kernel"], wb["x"]["kernel"])


def test_keras_default_initialisers():
    proj = cases.project(
        [7, 3],
        [
            {"id": "lstm", "type": "LSTM", "units": 5},
            {"id": "bn", "type": "BatchNorm"},
            {"id": "ln", "type": "LayerNorm"},
            {"id": "fc", "type": "Dense", "units": 400},
        ],
    )
    w = init_weights(proj, infer(proj, check_dataset=False), 0)
    bias = w["lstm"]["bias"]
    np.testing.assert_array_equal(bias[5:10], 1.0)  # forget gate, unit_forget_bias
    assert not bias[:5].any() and not bias[10:].any()
    rk = w["lstm"]["recurrent_kernel"].astype(np.float64)
    np.testing.assert_allclose(rk @ rk.T, np.eye(5), atol=1e-5)  # orthogonal rows
    assert list(w["bn"]) == ["gamma", "beta", "moving_mean", "moving_variance"]
    np.testing.assert_array_equal(w["bn"]["moving_variance"], 1.0)
    np.testing.assert_array_equal(w["ln"]["gamma"], 1.0)
    kernel = w["fc"]["kernel"]
    limit = math.sqrt(6 / (5 + 400))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    assert not w["fc"]["bias"].any()


def test_glorot_counts_the_receptive_field_and_orthogonal_handles_tall_matrices():
    rng = np.random.default_rng(0)
    k = glorot_uniform(rng, (3, 2, 4, 8))
    assert np.abs(k).max() <= math.sqrt(6 / (6 * 4 + 6 * 8))
    q = orthogonal(rng, (6, 3)).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-5)


def test_embeddings_uniform_within_005():
    proj = cases.FORWARD["embedding"]
    w = init_weights(proj, infer(proj, check_dataset=False), 0)
    e = next(a["embeddings"] for a in w.values() if "embeddings" in a)
    assert e.shape == (10, 4) and np.abs(e).max() <= 0.05
