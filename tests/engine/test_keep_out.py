"""A worker holds its own framework only (engine.backends.keep_out): Keras imports JAX at
``import keras`` on any backend and TensorFlow when it seeds or saves, wherever they are
installed, so without it a column's start-up and peak memory depended on which other runtimes
were installed beside it (Keras on JAX carried all of TensorFlow: 860 MiB instead of 445). The same
for TwinTrain's own scikit-learn and matplotlib while the framework imports (framework_import)."""

from __future__ import annotations

import json

import pytest
from worker_jobs import run_python

from engine.runtimes import RUNTIMES, missing_packages

# Everything a worker does with a model: build (Dropout, BatchNorm), train, evaluate, predict,
# probe, read the weights, export every format its runtime writes; then the frameworks loaded.
CODE = """
import importlib, json, sys, tempfile
from pathlib import Path
from engine.backends import load_backend, preload
from engine.data.load import load_data
from engine.presets import load_project_arg
from engine.runtimes import runtime
from engine.spec.graph import infer
from engine.weights import init_weights
name = sys.argv[1]
preload(name)
extras = sorted({m.partition(".")[0] for m in sys.modules} & {"sklearn", "matplotlib"})
B = load_backend(name)
B.resolve_device("cpu")
p = load_project_arg("breast_cancer_bn")
d = load_data(p)
idx = d.batch_indices(0, 32, 0)[:3]
runs = []
for _ in range(2):
    b = B(p, threads=1)
    b.build(init_weights(p, infer(p), seed=0))
    runs.append([b.train_step(d.x_train[i], d.y_train[i]) for i in idx])
b.evaluate(d.x_val, d.y_val, 64)
b.predict(d.x_val[:4])
b.probe(d.x_train[idx[0]], d.y_train[idx[0]])
b.get_weights()
rt = runtime(name)
module, _, function = rt.exporter.partition(":")
export = getattr(importlib.import_module(module), function)
out = export(b, rt.exports, Path(tempfile.mkdtemp()), d.x_val[:2])
moons = load_project_arg("moons_mlp")  # its data loader imports scikit-learn after the framework
print(json.dumps({
    "extras_at_import": extras,
    "moons": list(load_data(moons).x_train.shape),
    "exported": sorted(e["format"] for e in out if e["ok"]),
    "same_losses": runs[0] == runs[1],
    "loaded": sorted({"torch", "tensorflow", "jax"} & set(sys.modules)),
}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNTIMES))
def test_a_worker_loads_its_own_framework_and_no_other(name):
    if missing_packages(name):
        pytest.skip(f"{name} is not installed: {missing_packages(name)}")
    proc = run_python(CODE, name, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got["exported"] == sorted(RUNTIMES[name].exports), got  # every format, none failed
    assert got["same_losses"] is True, got  # the seed still holds without TensorFlow
    assert got["loaded"] == [RUNTIMES[name].framework], got
    # Keras' optional scikit-learn and matplotlib (TwinTrain's, not the framework's) stay out of
    # the import (engine.backends.framework_import), and scikit-learn still loads data after it
    assert got["extras_at_import"] == [], got
    assert got["moons"][1] == 2, got


def test_a_kept_out_framework_reads_as_not_installed_and_says_why():
    """Inside a keras-jax worker, importing torch fails with ModuleNotFoundError (what Keras and
    other libraries take for "not installed"), naming the worker; ``find_spec`` gives no file."""
    code = (
        "import importlib.util\n"
        "from engine.backends import keep_out\n"
        "keep_out('keras-jax')\n"
        "print('spec origin', importlib.util.find_spec('torch').origin)\n"
        "try:\n"
        "    import torch\n"
        "except ModuleNotFoundError as e:\n"
        "    print('refused', e.name, '|', e)\n"
        "import json\n"
        "print('others fine', json.dumps([1]))\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "spec origin None" in proc.stdout
    assert (
        "refused torch | torch is kept out of the Keras on JAX worker (TwinTrain: each column's "
        "start-up and memory are its own framework's)"
    ) in proc.stdout
    assert "others fine [1]" in proc.stdout


def test_twintrains_extras_read_as_not_installed_only_while_a_framework_imports():
    """matplotlib (and scikit-learn) are refused inside ``framework_import``, which Keras reads as
    not installed, and import as usual afterwards; one imported before is left alone."""
    code = (
        "import sys\n"
        "import sklearn\n"
        "from engine.backends import framework_import\n"
        "with framework_import():\n"
        "    import sklearn.utils\n"
        "    print('already in', 'sklearn.utils' in sys.modules)\n"
        "    try:\n"
        "        import matplotlib.pyplot\n"
        "    except ModuleNotFoundError as e:\n"
        "        print('refused', e.name, '|', e)\n"
        "import matplotlib\n"
        "print('after', matplotlib.__name__, len(sys.meta_path))\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "already in True" in proc.stdout
    assert "refused matplotlib | matplotlib is not imported while a framework loads" in proc.stdout
    assert "after matplotlib" in proc.stdout


def test_keep_out_holds_when_called_while_a_framework_imports():
    """framework_import's own finder must not pass for the worker's: keep_out called inside it
    (load_backend within a deployment child's import) still keeps the other frameworks out."""
    code = (
        "from engine.backends import framework_import, keep_out\n"
        "with framework_import():\n"
        "    keep_out('keras-jax')\n"
        "try:\n"
        "    import torch\n"
        "    print('torch imported')\n"
        "except ModuleNotFoundError as e:\n"
        "    print('refused', e.name)\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused torch" in proc.stdout, proc.stdout
