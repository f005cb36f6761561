"""The runtime registry (engine.runtimes) is the only list of frameworks in the tree.

The scan reads every Python file of engine/, gui/, packaging/ and bench/ (not tests/, and not
the registry itself) with ``ast`` and fails, naming file:line, on an inline tuple, list or set
holding two or more registered runtime ids (``("torch", "tensorflow")``), or a string that
lists them (``"torch,tensorflow"``). A table keyed by runtime (a dict) is allowed: it says
something per runtime, it does not decide which runtimes exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from engine import runtimes
from engine.runtimes import RUNTIMES
from tests.conftest import ROOT

SCANNED = ("engine", "gui", "packaging", "bench")
REGISTRY = "engine/runtimes.py"
# gui/ is being moved onto the registry by another change right now; these files still spell
# runtime lists and are skipped until it lands. Remove an entry once its file is clean (the
# test fails on a listed file that no longer needs it, so the list only shrinks).
PENDING_GUI: set[str] = set()
# bench/ scripts pick their columns inline (not moved to the registry by this change; their
# owner moves them). Same rule: the list only shrinks.
PENDING_BENCH: set[str] = set()
PENDING = PENDING_GUI | PENDING_BENCH

_LISTED = re.compile(rf"^\s*({'|'.join(map(re.escape, RUNTIMES))})(\s*,\s*[\w-]+)+\s*$")


def _files() -> list[Path]:
    out: list[Path] = []
    for top in SCANNED:
        out += sorted((ROOT / top).rglob("*.py"))
    return [p for p in out if p.relative_to(ROOT).as_posix() != REGISTRY]


def inline_lists(source: str) -> list[tuple[int, str]]:
    """(line, what) of each inline list of runtime ids in one file's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            names = [
                e.value
                for e in node.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in RUNTIMES
            ]
            if len(names) >= 2:
                found.append((node.lineno, f"({', '.join(map(repr, names))})"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _LISTED.match(node.value)
            and all(n.strip() in RUNTIMES for n in node.value.split(","))
        ):
            found.append((node.lineno, repr(node.value)))
    return found


def _offences() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in _files():
        rel = path.relative_to(ROOT).as_posix()
        for line, what in inline_lists(path.read_text(encoding="utf-8")):
            out.setdefault(rel, []).append(f"{rel}:{line}: {what}")
    return out


def test_the_scan_finds_what_it_looks_for():
    src = (
        'A = ("torch", "tensorflow")\nB = ["keras-jax", "x", "keras-torch"]\n'
        'C = {"torch", "keras-jax"}\nD = "torch,tensorflow"\nE = {"torch": 1, "tensorflow": 2}\n'
        'F = ("torch",)\nG = "torch"\n'
    )
    assert [line for line, _ in inline_lists(src)] == [1, 2, 3, 4]


def test_no_inline_list_of_runtimes_outside_the_registry():
    offences = _offences()
    stale = sorted(f for f in PENDING if f not in offences)
    assert not stale, f"these files are clean now; take them off the pending lists: {stale}"
    left = [line for f, lines in sorted(offences.items()) if f not in PENDING for line in lines]
    assert not left, "runtime names listed outside engine/runtimes.py:\n" + "\n".join(left)


def test_every_runtime_declares_what_the_engine_reads():
    from engine.export.formats import FILES, FORMATS, SUFFIXES

    for rt in RUNTIMES.values():
        assert rt.exporter.count(":") == 1 and rt.backend.count(":") == 1, rt.id
        assert set(rt.exports) <= set(SUFFIXES) and set(rt.no_export) <= set(FORMATS), rt.id
        assert not set(rt.exports) & set(rt.no_export), rt.id
        assert rt.param_count in ("torch", "keras"), rt.id
        # the framework its worker keeps (every other runtime's is kept out): one it installs
        assert rt.framework and any(
            rt.framework in package.split("|") for package in rt.packages
        ), rt.id
        for fmt in rt.exports:
            assert FILES[(rt.id, fmt)].startswith(rt.id), (rt.id, fmt)
    assert runtimes.DEFAULT_RUNTIMES == ("torch", "tensorflow")  # old runs keep their meaning
    assert FILES[("keras-jax", "keras")] == "keras-jax.keras"
    assert FILES[("keras-torch", "onnx")] == "keras-torch.onnx"


def test_a_runtime_without_its_packages_is_refused_with_the_install_command(monkeypatch):
    from engine.run_options import RunOptions, RunOptionsError

    real = runtimes.missing_packages
    monkeypatch.setattr(
        runtimes,
        "missing_packages",
        lambda name: ["jax"] if name == "keras-jax" else real(name),
    )
    why = runtimes.unavailable_reason("keras-jax")
    assert why == (
        'Keras on JAX needs jax, which is not installed; install with: pip install "twintrain[jax]"'
    )
    options = RunOptions(frameworks=("torch", "keras-jax"))
    with pytest.raises(RunOptionsError) as caught:
        options.validate({"frameworks": "--frameworks"})
    assert caught.value.option == "frameworks"
    assert str(caught.value) == f"--frameworks cannot use 'keras-jax': {why}"
    assert RunOptions(frameworks=("torch", "keras-torch")).validate()  # the others still run

    from engine.cli import frameworks_arg

    assert frameworks_arg("torch,keras-jax", "train") is None
    assert frameworks_arg("torch,keras-torch", "train") == ("torch", "keras-torch")


def test_train_refuses_a_missing_runtime_with_exit_2_before_anything(monkeypatch, tmp_path, capsys):
    from engine.cli import main

    monkeypatch.setattr(runtimes, "missing_packages", lambda name: ["jax", "jaxlib"])
    out = tmp_path / "run"
    code = main(["train", "xor_mlp", "--frameworks", "keras-jax", "--out", str(out)])
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err.strip()
    assert err == (
        "twintrain train: --frameworks cannot use 'keras-jax': Keras on JAX needs jax, jaxlib, "
        'which are not installed; install with: pip install "twintrain[jax]"'
    )
    code = main(["export", "xor_mlp", "--frameworks", "keras-jax", "--out", str(out)])
    assert code == 2 and not out.exists()


def test_an_unknown_runtime_names_the_closest():
    from engine.run_options import RunOptions

    (field, message), *_ = RunOptions(frameworks=("torch", "keras-jx")).problems()
    assert field == "frameworks"
    assert message == (
        "frameworks takes one or more of torch, tensorflow, keras-jax, keras-torch; "
        "unknown framework 'keras-jx' (did you mean 'keras-jax'?)"
    )


def test_check_counts_parameters_for_every_runtime():
    from engine.check import check_report, format_check_table
    from engine.presets import load_project_arg

    project = load_project_arg("sine_lstm")
    report = check_report(project)
    lstm = next(layer for layer in report["layers"] if layer["type"] == "LSTM")
    by = lstm["params_by_framework"]
    assert list(by) == list(RUNTIMES)
    assert by["torch"] > by["tensorflow"] == by["keras-jax"] == by["keras-torch"] == lstm["params"]
    assert report["params"]["keras-torch"] == report["params"]["spec"]
    text = format_check_table(project, report)
    assert "keras-jax, keras-torch count parameters as tensorflow does" in text
    assert f"* {lstm['id']}: torch {by['torch']:,} vs tensorflow {by['tensorflow']:,}: " in text
