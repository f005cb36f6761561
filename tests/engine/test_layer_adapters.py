"""The per-layer-type tables: every framework table and every code exporter covers the layer
registry exactly, and the PyTorch script permutes its tensors where the backend's network does.

The tables (torch_adapters.TORCH, keras_adapters.KERAS) are framework-free, so most checks run
here; what needs torch or keras (the modules and classes they name, the backend's network) runs
in one subprocess.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import backend_cases
import numpy as np
import pytest
from export_cases import case_key, write_cases
from worker_jobs import ROOT, run_python

from engine.backends.keras_adapters import KERAS
from engine.backends.plan import Plan, make_plan
from engine.backends.torch_adapters import TORCH
from engine.export import code_torch
from engine.spec.graph import infer
from engine.spec.layer_types import LAYER_TYPES
from engine.spec.project import Project, read_project
from engine.weights import INIT, init_weights

TABLES = {
    "torch_adapters.TORCH": TORCH,
    "keras_adapters.KERAS": KERAS,
    "code_torch.CODE": code_torch.CODE,
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_covers_every_registered_layer_type_exactly(name):
    keys = set(TABLES[name])
    assert not set(LAYER_TYPES) - keys, f"{name} lacks {sorted(set(LAYER_TYPES) - keys)}"
    assert not keys - set(LAYER_TYPES), f"{name} has unknown {sorted(keys - set(LAYER_TYPES))}"


def test_the_exporters_keep_no_table_of_their_own():
    """One layout rule and one list of Keras classes: the exporters read the backends' tables.
    Layer type names appear in code_torch only as CODE's keys, in code_keras not at all."""
    names = "|".join(map(re.escape, LAYER_TYPES))
    literal = re.compile(rf"""["']({names})["']""")
    source = (ROOT / "engine" / "export" / "code_torch.py").read_text(encoding="utf-8")
    found = literal.findall(source)
    assert sorted(found) == sorted(LAYER_TYPES), sorted(set(found) ^ set(LAYER_TYPES))
    source = (ROOT / "engine" / "export" / "code_keras.py").read_text(encoding="utf-8")
    assert not literal.findall(source)
    assert not hasattr(code_torch, "WANTS")


def _projects(tmp_path) -> dict[str, Project]:
    out = {f"forward_{k}": v for k, v in backend_cases.FORWARD.items()}
    out |= {f"export_{case_key(p)}": read_project(p) for p in write_cases(tmp_path)}
    return out


def test_weighted_types_have_initial_weights_and_a_torch_conversion(tmp_path):
    weighted = set()
    for proj in _projects(tmp_path).values():
        graph = infer(proj, check_dataset=False)
        weighted |= {layer.type for layer in proj.layers if graph.layers[layer.id].params}
    converts = {t for t, a in TORCH.items() if a.to_torch is not None}
    assert {t for t, a in TORCH.items() if a.from_torch is not None} == converts
    assert set(INIT) == converts == weighted


def test_torch_weight_conversion_round_trips(tmp_path):
    seen = set()
    for proj in _projects(tmp_path).values():
        graph = infer(proj, check_dataset=False)
        kinds = {layer.id: layer.type for layer in proj.layers}
        for lid, arrays in init_weights(proj, graph, seed=5).items():
            adapter = TORCH[kinds[lid]]
            assert adapter.to_torch is not None and adapter.from_torch is not None
            back = adapter.from_torch(adapter.to_torch(arrays))
            assert set(back) == set(arrays), lid
            for key, value in arrays.items():
                np.testing.assert_array_equal(back[key], value, err_msg=f"{lid}/{key}")
            seen.add(kinds[lid])
    assert seen == set(INIT)


def _script_layouts(plan: Plan) -> tuple[dict[str, str], int]:
    """(layout each node runs in, permutes written) for the PyTorch script's Net."""
    writer = code_torch._ModelWriter(SimpleNamespace(plan=plan))
    writer.write()
    return writer.ran, sum(".permute(" in line for line in writer.fwd)


_WORKER = """
import json, os, sys
os.environ["KERAS_BACKEND"] = "torch"
sys.path.insert(0, "tests/engine")
from pathlib import Path
import keras
from torch import nn
import backend_cases
from export_cases import case_key, write_cases
from engine.backends import torch_layers
from engine.backends.keras_adapters import KERAS
from engine.backends.plan import make_plan
from engine.backends.torch_adapters import TORCH
from engine.backends.torch_backend import Net
from engine.spec.project import read_project

out = {"modules": {}, "keras": {}, "nets": {}}
for kind, adapter in TORCH.items():
    cls = getattr(torch_layers, adapter.module, None)
    out["modules"][kind] = isinstance(cls, type) and issubclass(cls, nn.Module)
for kind, adapter in KERAS.items():
    cls = getattr(keras.layers, adapter.cls, None)
    out["keras"][kind] = isinstance(cls, type) and issubclass(cls, keras.layers.Layer)
projects = {f"forward_{k}": v for k, v in backend_cases.FORWARD.items()}
projects |= {f"export_{case_key(p)}": read_project(p) for p in write_cases(Path(sys.argv[1]))}
for key, proj in projects.items():
    net = Net(make_plan(proj))
    permutes = sum(isinstance(m, torch_layers.Permute) for m, _ in net._steps)
    out["nets"][key] = [net.ran, permutes]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """What the frameworks say about the tables, from one subprocess (torch and Keras)."""
    tmp = tmp_path_factory.mktemp("adapters")
    proc = run_python(_WORKER, str(tmp / "w"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"result": json.loads(proc.stdout.splitlines()[-1]), "projects": _projects(tmp / "t")}


def test_every_table_names_a_real_framework_layer(built):
    result = built["result"]
    bad = [k for k, ok in result["modules"].items() if not ok]
    assert not bad, f"TORCH names no nn.Module in torch_layers for {bad}"
    bad = [k for k, ok in result["keras"].items() if not ok]
    assert not bad, f"KERAS names no keras.layers class for {bad}"


def test_the_torch_script_permutes_where_the_backend_does(built):
    """Per node the layout it runs in, and the number of permutes, are the backend's: the two
    copies of the layout rule disagreed once (GlobalAvgPool and BatchNorm on a channels-last
    sequence), which changed nothing in the outputs and so passed every parity test."""
    nets = built["result"]["nets"]
    assert set(nets) == set(built["projects"])
    for key, proj in built["projects"].items():
        ran, permutes = _script_layouts(make_plan(proj))
        assert nets[key] == [ran, permutes], key
