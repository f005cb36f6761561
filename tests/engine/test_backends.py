"""The two backends against each other: forward parity for every layer type, training parity
in matched mode for every optimizer and loss, parameter counts, weight round trips, presets.

Each framework runs in its own subprocess (backend_worker.py), every case batched into it; this
process imports neither framework and compares the arrays they report.
"""

from __future__ import annotations

import backend_cases as cases
import numpy as np
import pytest
from worker_jobs import run_jobs

from engine.presets import list_presets
from engine.spec.graph import infer
from engine.spec.layer_types import LAYER_TYPES
from engine.spec.params import ACTIVATIONS
from engine.spec.project import read_project

FORWARD_TOL = 1e-5
LOSS_TOL = 1e-4
# (framework, sections) per subprocess: TensorFlow's share is split in two so that three
# processes keep two cores busy.
JOBS = (
    ("torch", "forward,train,presets"),
    ("tensorflow", "forward,presets"),
    ("tensorflow", "train"),
)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict[str, np.ndarray]]:
    return run_jobs(JOBS, tmp_path_factory.mktemp("backends"))


def _pair(results, key: str) -> tuple[np.ndarray, np.ndarray]:
    return results["torch"][key], results["tensorflow"][key]


def _weights(results, framework: str, prefix: str) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in results[framework].items():
        if key.startswith(prefix + "|"):
            lid, name = key[len(prefix) + 1 :].split("|")
            out.setdefault(lid, {})[name] = value
    return out


def _close(a: np.ndarray, b: np.ndarray, tol: float, what: str) -> None:
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    diff = float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    assert diff <= tol * scale, f"{what}: max |diff| {diff:.3g} > {tol * scale:.3g}"


# ---- coverage of the cases themselves -----------------------------------------------------------


def test_cases_cover_every_layer_type_and_activation():
    used = {layer.type for p in cases.FORWARD.values() for layer in p.layers}
    assert used == set(LAYER_TYPES)
    acts = {
        layer.resolved().get("activation") for p in cases.FORWARD.values() for layer in p.layers
    }
    assert set(ACTIVATIONS) <= acts


# ---- forward ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(cases.FORWARD))
def test_forward_parity(results, name):
    t, f = _pair(results, f"fwd|{name}|eval")
    proj = cases.FORWARD[name]
    graph = infer(proj, check_dataset=False)
    assert t.shape == (cases.BATCH, *graph.output_shape)
    assert np.isfinite(t).all() and np.std(t) > 0
    _close(t, f, FORWARD_TOL, f"{name} inference output")


@pytest.mark.parametrize("name", [n for n in sorted(cases.FORWARD) if n.startswith("batchnorm")])
def test_batchnorm_train_mode_and_moving_statistics(results, name):
    t, f = _pair(results, f"fwd|{name}|train")
    _close(t, f, FORWARD_TOL, f"{name} training-mode output")
    # Training mode normalises with batch statistics, so it differs from inference mode.
    assert np.max(np.abs(t - results["torch"][f"fwd|{name}|eval"])) > 1e-3
    t, f = _pair(results, f"fwd|{name}|eval_after")
    _close(t, f, FORWARD_TOL, f"{name} inference after one training-mode pass")
    before = cases.weights_for(name, cases.FORWARD[name])
    tw, fw = (
        _weights(results, "torch", f"fwd|{name}|w1"),
        _weights(results, "tensorflow", f"fwd|{name}|w1"),
    )
    for lid, arrays in fw.items():
        for key in ("moving_mean", "moving_variance"):
            if key in arrays:
                _close(tw[lid][key], arrays[key], FORWARD_TOL, f"{name} {lid}.{key}")
                assert not np.allclose(arrays[key], before[lid][key]), (
                    "moving statistics did not move"
                )


@pytest.mark.parametrize("name", sorted(cases.FORWARD))
def test_weights_round_trip(results, name):
    expected = cases.weights_for(name, cases.FORWARD[name])
    for framework in ("torch", "tensorflow"):
        got = _weights(results, framework, f"fwd|{name}|w0")
        assert set(got) == set(expected), framework
        for lid, arrays in expected.items():
            assert set(got[lid]) == set(arrays), (framework, lid)
            for key, value in arrays.items():
                assert got[lid][key].dtype == np.float32
                np.testing.assert_array_equal(
                    got[lid][key], value, err_msg=f"{framework} {lid}.{key}"
                )


@pytest.mark.parametrize("name", sorted(cases.FORWARD))
def test_param_counts_match_registry(results, name):
    graph = infer(cases.FORWARD[name], check_dataset=False)
    assert int(results["torch"][f"fwd|{name}|params"]) == graph.torch_params
    assert int(results["tensorflow"][f"fwd|{name}|params"]) == graph.params


# ---- training -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(cases.TRAIN))
def test_training_parity_matched(results, name):
    t, f = _pair(results, f"train|{name}|losses")
    assert t.shape == (cases.TRAIN_STEPS,)
    assert np.all(np.isfinite(t))
    assert abs(t[:5].mean() - t[-5:].mean()) > 1e-3, "the loss did not move: nothing was trained"
    diff = float(np.max(np.abs(t - f)))
    assert diff < LOSS_TOL, f"max |loss diff| over {cases.TRAIN_STEPS} steps: {diff:.3g}"
    t, f = _pair(results, f"train|{name}|evaluate")
    np.testing.assert_allclose(t, f, atol=LOSS_TOL, equal_nan=True)
    tw, fw = (
        _weights(results, "torch", f"train|{name}|w"),
        _weights(results, "tensorflow", f"train|{name}|w"),
    )
    for lid, arrays in fw.items():
        for key, value in arrays.items():
            _close(tw[lid][key], value, 1e-3, f"{name} trained {lid}.{key}")


@pytest.mark.parametrize("name", sorted(cases.TRAIN))
def test_torch_matched_optimizer_loop_and_multi_tensor_paths_agree(results, name):
    a = results["torch"][f"train|{name}|losses"]
    b = results["torch"][f"train|{name}|losses_other_path"]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", sorted(cases.TRAIN))
def test_tensorflow_step_traced_once(results, name):
    assert int(results["tensorflow"][f"train|{name}|traces"]) == 1


def test_native_mode_uses_stock_optimizers_and_trains(results):
    names = [
        k.split("|")[1]
        for k in results["torch"]
        if k.startswith("native|") and k.endswith("|losses")
    ]
    assert names
    for name in names:
        for framework in ("torch", "tensorflow"):
            assert np.all(np.isfinite(results[framework][f"native|{name}|losses"])), (
                framework,
                name,
            )
        matched = str(results["torch"][f"matched|{name}|optimizer"])
        native = str(results["torch"][f"native|{name}|optimizer"])
        assert matched.startswith("engine.backends.torch_optim.Keras"), matched
        assert native.startswith("torch.optim."), native
        assert str(results["tensorflow"][f"native|{name}|optimizer"]).startswith("keras.")


# ---- presets ------------------------------------------------------------------------------------

PRESETS = {p.key: p.path for p in list_presets()}


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_preset_params_and_parity(results, key):
    proj = read_project(PRESETS[key])
    graph = infer(proj)
    assert int(results["torch"][f"preset|{key}|params"]) == graph.torch_params
    assert int(results["tensorflow"][f"preset|{key}|params"]) == graph.params
    t, f = _pair(results, f"preset|{key}|evaluate0")
    np.testing.assert_allclose(t, f, atol=FORWARD_TOL, equal_nan=True)
    _check_evaluate(results, key, proj)
    t, f = _pair(results, f"preset|{key}|losses")
    if any(layer.type == "Dropout" for layer in proj.layers):
        return  # each framework draws its own dropout masks: the curves part by design
    assert float(np.max(np.abs(t - f))) < LOSS_TOL


def _check_evaluate(results, key: str, proj) -> None:
    """evaluate() before training agrees with the loss and accuracy worked out here in numpy
    from the framework's own predictions (so both frameworks cannot be wrong the same way)."""
    loss_name = proj.training["loss"]
    for framework in ("torch", "tensorflow"):
        out = results[framework][f"preset|{key}|val_out"].astype(np.float64)
        y = results[framework][f"preset|{key}|val_y"]
        loss, acc = results[framework][f"preset|{key}|evaluate0"]
        if loss_name == "cross_entropy":
            z = out - out.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            want_loss, want_acc = (
                -logp[np.arange(len(y)), y].mean(),
                (out.argmax(axis=1) == y).mean(),
            )
        elif loss_name == "binary_cross_entropy":
            t = y.reshape(-1, 1).astype(np.float64)
            want_loss = (np.maximum(out, 0) - out * t + np.log1p(np.exp(-np.abs(out)))).mean()
            want_acc = ((out > 0) == (t > 0.5)).mean()
        else:
            err = out - y
            want_loss, want_acc = (
                (np.square(err) if loss_name == "mse" else np.abs(err)).mean(),
                np.nan,
            )
        assert abs(loss - want_loss) < 1e-5, (framework, loss, want_loss)
        np.testing.assert_allclose(acc, want_acc, atol=1e-9, equal_nan=True, err_msg=framework)
