"""Code export: model_torch.py and model_keras.py for every preset and the extra cases.

Checked here without any framework: standalone imports, formatting (ruff), every layer type,
activation, optimizer, loss and dataset generated. Checked in one subprocess per framework: the
script's data equal TwinTrain's array for array, and its network, given the backend's weights,
computes the backend's output, and every case's script trains for one epoch and its loss falls.
The xor and text presets' scripts also run as a user runs them, each in its own process.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import shutil
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from export_cases import PRESETS, ZOO, case_key, write_cases
from test_export import FRAMEWORKS, run_workers

from engine.data import catalog
from engine.export import code_torch
from engine.export.code import generate, write_code
from engine.export.formats import CODE_FILES
from engine.runtimes import RUNTIMES
from engine.spec.layer_types import LAYER_TYPES
from engine.spec.params import ACTIVATIONS
from engine.spec.project import from_dict, read_project
from engine.spec.training import LOSSES, OPTIMIZERS

ALLOWED_IMPORTS = {
    "torch": {
        "argparse",
        "csv",
        "pathlib",
        "re",
        "numpy",
        "sklearn.datasets",
        "torch",
        "torch.nn",
        "torch.nn.functional",
        "torch.utils.data",
    },
    "tensorflow": {"argparse", "csv", "pathlib", "re", "numpy", "sklearn.datasets", "keras"},
}
LINE = re.compile(r"(?<![a-z_])loss: (\S+)")
VAL = re.compile(r"val_loss: (\S+)")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("code")
    cases = {case_key(p): p for p in write_cases(root / "cases")}
    out = root / "out"
    entries = {key: write_code(read_project(path), out / key) for key, path in cases.items()}
    # A user's data file goes next to the script (what the script's DATA_FILE comment asks).
    shutil.copy(root / "cases" / "data" / "points.npz", out / "zoo_npz")
    shutil.copy(root / "cases" / "table.csv", out / "zoo_csv")
    return {"root": root, "cases": cases, "out": out, "entries": entries}


def scripts(generated):
    for key in sorted(generated["cases"]):
        for fw, name in CODE_FILES.items():
            yield key, fw, generated["out"] / key / name


def test_write_code_reports_both_scripts(generated):
    for key, entries in generated["entries"].items():
        assert [(e["framework"], e["file"]) for e in entries] == list(CODE_FILES.items()), key
        for e in entries:
            path = generated["out"] / key / e["file"]
            assert e["ok"] and e["reason"] is None and e["format"] == "code", (key, e)
            assert e["bytes"] == path.stat().st_size > 1000 and "compile()" in e["check"]
            assert stat.S_IMODE(path.stat().st_mode) & stat.S_IRGRP or os.name == "nt"
        user_file = key in ("zoo_npz", "zoo_csv")
        assert all(("note" in e) == user_file for e in entries), key


def test_cases_cover_the_whole_registry(generated):
    projects = [read_project(p) for p in generated["cases"].values()]
    layers = [layer for p in projects for layer in p.layers]
    assert {layer.type for layer in layers} == set(LAYER_TYPES)
    used = {layer.resolved().get("activation") for layer in layers} - {None}
    assert used == set(ACTIVATIONS)
    assert {p.training.get("optimizer", {}).get("name", "adam") for p in projects} == set(
        OPTIMIZERS
    )
    assert {p.training.get("loss") for p in projects} >= set(LOSSES) - {"auto"}
    names = {p.training["dataset"]["name"] for p in projects}
    assert names >= set(catalog.NAMES), set(catalog.NAMES) - names


def test_scripts_are_standalone(generated):
    for key, fw, path in scripts(generated):
        tree = ast.parse(path.read_text(), str(path))
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules.add(node.module)
        assert modules <= ALLOWED_IMPORTS[fw], (key, fw, modules - ALLOWED_IMPORTS[fw])
        assert ast.get_docstring(tree), (key, fw)
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert {"load_dataset", "load_data", "main"} <= defined
        assert ("Net" in defined) if fw == "torch" else ("build_model" in defined)


def _ruff() -> str | None:
    found = Path(sys.executable).with_name("ruff")
    return str(found) if found.exists() else shutil.which("ruff")


def test_scripts_are_formatted_and_lint_clean(generated):
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed")
    files = [str(p) for _, _, p in scripts(generated)]
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--check", "--diff", *files], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout[-3000:] + fmt.stderr[-2000:]
    lint = subprocess.run(
        [
            ruff,
            "check",
            "--isolated",
            "--select",
            "E,F,W,I,UP,B,SIM",
            "--output-format",
            "concise",
            *files,
        ],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout[-3000:]


def test_layer_ids_that_clash_with_python_or_module_names():
    """Ids may be keywords or nn.Module attributes: the scripts rename their Python names only."""
    doc = {
        "format": "twintrain/1",
        "name": "clash",
        "model": {
            "input": {"shape": [2]},
            "layers": [
                {"id": "forward", "type": "Dense", "units": 4},
                {"id": "train", "type": "Dense", "units": 4},
                {"id": "class", "type": "Dense", "units": 4, "inputs": ["forward"]},
                {"id": "to", "type": "Concatenate", "inputs": ["train", "class"]},
                {"id": "_private", "type": "Dense", "units": 2},
            ],
        },
        "training": {"dataset": {"name": "xor"}},
    }
    sources = generate(from_dict(doc))
    torch_src, keras_src = sources["torch"], sources["tensorflow"]
    for attr in ("forward_", "train_", "class_", "private"):
        assert f"self.{attr} = nn.Linear(" in torch_src, attr
    assert "def forward(self, x):" in torch_src and torch_src.count("def forward") == 1
    assert "to = torch.cat([train_, class_], dim=1)" in torch_src
    for name in ("forward", "train", "class", "to", "_private"):
        assert f'name="{name}"' in keras_src, name
    assert "class_ = layers.Dense(4" in keras_src
    for src in sources.values():
        compile(src, "clash.py", "exec")


def test_a_project_that_cannot_be_generated_gives_entries(tmp_path):
    doc = {
        "format": "twintrain/1",
        "name": "no-data",
        "model": {"input": {"shape": [3]}, "layers": [{"id": "out", "type": "Dense", "units": 1}]},
        "training": {"dataset": {"name": "csv", "path": "missing.csv", "target": "y"}},
    }
    project = from_dict(doc)
    project.path = tmp_path / "p.twintrain.json"
    entries = write_code(project, tmp_path / "out")
    assert [e["ok"] for e in entries] == [False, False]
    assert all("missing.csv" in e["reason"] for e in entries)


@pytest.fixture(scope="module")
def checked(generated):
    run_workers("code", generated["root"] / "cases", generated["out"])
    return {fw: json.loads((generated["out"] / f"{fw}-code.json").read_text()) for fw in FRAMEWORKS}


def test_scripts_make_twintrains_data_and_network(checked, generated):
    assert checked["torch"].pop("_missing_module_attributes") == []
    for fw in FRAMEWORKS:
        assert set(checked[fw]) == set(generated["cases"])
        for key, result in checked[fw].items():
            assert "error" not in result, (fw, key, result.get("error"))
            assert result["same_data"] is True, (fw, key)
            assert result["output_shape"] == result["reference_shape"], (fw, key)
            assert result["parity_diff"] < 1e-5, (fw, key, result["parity_diff"])
            assert (
                result["loaded"] > 0 and result["missing"] == [] and result["unexpected"] == []
            ), (fw, key, result)


def test_extra_cases_train_one_epoch_in_process(checked):
    for fw in FRAMEWORKS:
        for key in ZOO:
            printed = checked[fw][key]["printed"]
            losses = [float(m) for line in printed for m in LINE.findall(line)]
            assert len(losses) >= 2 and all(math.isfinite(v) for v in losses), (fw, key, printed)


def _run(path: Path, *args: str) -> tuple[Path, subprocess.CompletedProcess]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, path.name, "--epochs", "1", *args],
        cwd=path.parent,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return path, proc


def val_losses(stdout: str) -> tuple[float, float]:
    """(initial, after one epoch) validation loss from either script's output."""
    lines = [line for line in stdout.splitlines() if "val_loss:" in line]
    assert len(lines) == 2 and lines[0].startswith("initial"), stdout
    return float(VAL.findall(lines[0])[-1]), float(VAL.findall(lines[1])[-1])


def test_every_presets_scripts_train_one_epoch_and_the_loss_falls(checked):
    """Each preset's main() for one epoch, in its framework's worker (the import paid once, not
    once a script). That a script also runs as a user runs it, its own process in its own
    folder with no TwinTrain on the path, is the subprocess tests' below (--mode, --predict) and
    test_scripts_are_standalone's (what it imports)."""
    for fw, name in CODE_FILES.items():
        for preset in PRESETS:
            where = f"{case_key(preset)}/{name}"
            result = checked[fw][case_key(preset)]
            assert "error" not in result, (where, result.get("error"))  # main() raised
            printed = "\n".join(result["printed"])
            if fw == "torch":
                assert "epoch 1/1 - loss:" in printed, where
            before, after = val_losses(printed)
            assert math.isfinite(before) and math.isfinite(after), where
            assert after < before, f"{where}: validation loss {before} -> {after}"


# ---- --mode ----------------------------------------------------------------------------------


def _mode_argument(source: str) -> dict:
    """The keyword arguments of the script's add_argument("--mode", ...), as Python values."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
            and node.args
            and ast.literal_eval(node.args[0]) == "--mode"
        ):
            return {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    raise AssertionError("no --mode argument")


def test_scripts_offer_the_registrys_modes():
    sources = generate(read_project(PRESETS[0]))
    for fw, source in sources.items():
        ids = [m.id for m in RUNTIMES[fw].modes]
        arg = _mode_argument(source)
        assert list(arg["choices"]) == ids and arg["default"] == ids[0], (fw, arg)
        assert 'print(f"mode: {args.mode}' in source, fw
    assert "batch_loss = step_function(model, loss_fn, args.mode)" in sources["torch"]
    assert "**step_options(args.mode)" in sources["tensorflow"]


def test_script_compile_modes_are_the_backends():
    torch_compile = pytest.importorskip("engine.backends.torch_compile")
    assert code_torch.COMPILE_MODES == torch_compile.TORCH_MODES


def _xor_script(generated, name: str) -> Path:
    return generated["out"] / "xor_mlp" / name


def _losses(stdout: str) -> list[float]:
    """Every loss and val_loss a script printed, in order."""
    lines = [line for line in stdout.splitlines() if "loss:" in line]
    return [float(v) for line in lines for v in (*LINE.findall(line), *VAL.findall(line))]


def _same_losses(runs: list[tuple[Path, subprocess.CompletedProcess]], modes: list[str]) -> None:
    """Each run printed its mode first and the first run's losses (printed to 4 decimals)."""
    printed = {}
    for mode, (path, proc) in zip(modes, runs):
        assert proc.returncode == 0, f"{path.name} --mode {mode}:\n{proc.stderr[-3000:]}"
        assert proc.stdout.startswith(f"mode: {mode}"), (mode, proc.stdout[:200])
        printed[mode] = _losses(proc.stdout)
        assert len(printed[mode]) == 4, (mode, proc.stdout)
    reference = printed[modes[0]]
    for mode in modes[1:]:
        diff = max(abs(a - b) for a, b in zip(reference, printed[mode]))
        assert diff < 1e-4, (mode, printed)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_scripts_refuse_an_unknown_mode(generated):
    paths = [_xor_script(generated, name) for name in CODE_FILES.values()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda p: _run(p, "--mode", "warp"), paths))
    for fw, (path, proc) in zip(CODE_FILES, runs):
        assert proc.returncode == 2, (path.name, proc.stderr[-2000:])
        assert "invalid choice: 'warp'" in proc.stderr, proc.stderr[-2000:]
        for mode in RUNTIMES[fw].modes:
            assert f"'{mode.id}'" in proc.stderr.splitlines()[-1], (mode.id, proc.stderr)


@pytest.mark.slow
@pytest.mark.timeout(600)  # three TensorFlow processes, about 25 s on 2 cores
def test_keras_script_trains_the_same_in_every_mode(generated):
    path = _xor_script(generated, "model_keras.py")
    modes = [m.id for m in RUNTIMES["tensorflow"].modes]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda m: _run(path, "--mode", m), modes))
    _same_losses(runs, modes)


@pytest.mark.slow
@pytest.mark.timeout(600)  # torch.compile's first compile: 10-20 s
def test_torch_script_trains_the_same_compiled(generated):
    path = _xor_script(generated, "model_torch.py")
    modes = ["eager", "compile"]
    cuda_only = [m.id for m in RUNTIMES["torch"].modes if m.cuda_only]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda m: _run(path, "--mode", m), [*modes, *cuda_only]))
    _same_losses(runs[: len(modes)], modes)
    for mode, (_, proc) in zip(cuda_only, runs[len(modes) :]):
        if proc.stdout.startswith(f"mode: {mode} on cuda"):
            continue  # a CUDA machine: the mode runs
        assert proc.returncode == 2, (mode, proc.stdout, proc.stderr[-2000:])
        last = proc.stderr.strip().splitlines()[-1]
        assert f"--mode {mode} needs a CUDA GPU; DEVICE is cpu" in last, proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_text_sets_scripts_classify_new_sentences_with_the_training_vocabulary(tmp_path):
    """encode() makes the word ids TwinTrain made (the vocabulary of the training split, kept
    in dataset.npz), and --predict names a class for each sentence after training."""
    project = read_project(
        Path(__file__).resolve().parents[2] / "presets" / "topics_embedding.twintrain.json"
    )
    entries = write_code(project, tmp_path)
    assert all(e["ok"] for e in entries), entries
    texts = ["It rained all night and the wind was cold", "Zzyzx qwerty"]
    check = (
        "import csv, sys, numpy as np\n"
        "import model_torch as m\n"
        "with np.load(m.DATA_FILE, allow_pickle=False) as d: x, words = d['x'], d['vocabulary']\n"
        f"rows = list(csv.DictReader(open({str(project.base_dir / 'data' / 'topics.csv')!r})))\n"
        "assert np.array_equal(m.encode([r['text'] for r in rows]), x)\n"
        f"print(m.encode({texts!r})[1][:3].tolist(), words[:2].tolist(), m.class_names())\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    same = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert same.returncode == 0, same.stderr[-3000:]
    assert same.stdout.strip() == (
        "[1.0, 1.0, 0.0] ['<pad>', '<unk>'] ['food', 'sport', 'weather']"
    )  # unknown words are 1, the rest padding
    for name in CODE_FILES.values():
        _, proc = _run(tmp_path / name, "--predict", *texts)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = proc.stdout.strip().splitlines()[-2:]
        assert [line.split(": ", 1)[1] for line in lines] == texts, proc.stdout
        assert {line.split(": ", 1)[0] for line in lines} <= {"food", "sport", "weather"}
