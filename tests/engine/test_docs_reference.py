"""The hand-written pages of docs/ against the code they describe, and the repository's links.

cli.md must name every subcommand, flag and choice the argparse definitions give, the app's own
options and every TWINTRAIN_* variable the code reads; run-folder.md every file, CSV column,
summary.json key and TensorBoard tag a run writes; exports.md every format name, file and
exports.json key. No file of the repository may point outside it, and every relative link in the
Markdown files must lead to a file that exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import cli
from engine.charts import CHARTS
from engine.events import STEP_FIELDS
from engine.export import manifest
from engine.export.common import entry
from engine.export.formats import CODE_FILES, FILES, FORMATS, MANIFEST
from engine.past_runs import RUN_META
from engine.run_folder import EPOCHS_HEADER, METRICS_HEADER
from engine.session import FrameworkRun
from engine.spec.project import read_project
from engine.summary import FORMAT as RUN_FORMAT
from engine.summary import build_summary
from engine.trained_weights import WEIGHTS_DIR
from tests.conftest import PRESETS, ROOT

DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under the first ``## `` heading that starts with ``heading``, to the next one."""
    parts = re.split(r"(?m)^## ", text)
    found = [p for p in parts if p.startswith(heading)]
    assert found, f"no section '## {heading}...'"
    return found[0]


def code(name: str) -> str:
    """How a page writes a name: in backticks, maybe followed by an argument (`--out DIR`)."""
    return f"`{name}"


# ---- cli.md ------------------------------------------------------------------------------------


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_cli_page_has_every_subcommand():
    subs = _subcommands()
    assert set(subs) == set(cli.SUBCOMMANDS)
    text = page("cli.md")
    for name in subs:
        section(text, f"`twintrain {name}")


@pytest.mark.parametrize("name", cli.SUBCOMMANDS)
def test_cli_page_has_every_flag_and_choice(name):
    parser = _subcommands()[name]
    text = section(page("cli.md"), f"`twintrain {name}")
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for flag in action.option_strings:
            assert code(flag) in text, f"twintrain {name} {flag} is not in docs/cli.md"
        for choice in action.choices or ():
            assert code(str(choice)) in text, f"twintrain {name}: choice {choice!r} missing"
        if not action.option_strings:  # a positional argument: FILE in the heading
            assert action.dest.upper() in text


def test_cli_page_has_the_export_format_names():
    text = section(page("cli.md"), "`twintrain export")
    for name in (*FORMATS, "all"):
        assert code(name) in text


def test_cli_page_has_the_apps_own_options():
    source = (ROOT / "gui" / "launch.py").read_text(encoding="utf-8")
    options = set(re.findall(r'argv\[0\] == "(--[a-z-]+)"', source))
    assert "--self-test" in options
    text = page("cli.md")
    for option in options:
        assert code(option) in text, f"{option} (gui/launch.py) is not in docs/cli.md"


def test_cli_page_has_every_environment_variable():
    found: dict[str, str] = {}
    for folder in ("engine", "gui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in re.findall(r"TWINTRAIN_[A-Z_]+", path.read_text(encoding="utf-8")):
                found.setdefault(name, str(path.relative_to(ROOT)))
    assert "TWINTRAIN_DATA_DIR" in found
    text = page("cli.md")
    for name, where in found.items():
        assert code(name) in text, f"{name} (read in {where}) is not in docs/cli.md"


# ---- run-folder.md -----------------------------------------------------------------------------


def _run(name: str, *, error: str | None = None) -> FrameworkRun:
    run = FrameworkRun(name)
    for i in range(1, 21):
        for key, value in zip(STEP_FIELDS, (i, 1, 0.5, 0.01, 32, 2**20, None, i / 100)):
            run.steps[key].append(value)
    run.epochs.append(
        {"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.9, "steps": 20}
    )
    run.info = {"version": "1.0", "device": "cpu", "threads": 1, "params": 10, "setup_s": 1.0}
    run.status = "finished"
    run.error = error
    return run


def _summaries() -> list[dict]:
    project = read_project(PRESETS[0])
    out = []
    for error in (None, "it broke"):
        session = SimpleNamespace(
            project=project,
            schedule="parallel",
            init="matched",
            optimizer="matched",
            device="auto",
            runs={"torch": _run("torch"), "tensorflow": _run("tensorflow", error=error)},
        )
        out.append(build_summary(session))  # type: ignore[arg-type]
    return out


def test_run_folder_page_has_every_summary_key():
    text = section(page("run-folder.md"), "`summary.json`")
    assert f'"{RUN_FORMAT}"' in text
    keys: set[str] = set()
    for summary in _summaries():
        keys |= set(summary)
        for figures in summary["frameworks"].values():
            keys |= set(figures)
        keys |= set(summary["parity"] or {})
    for key in sorted(keys):
        assert code(key) in text, f"summary.json key '{key}' is not in docs/run-folder.md"


def test_run_folder_page_has_every_file_and_column():
    text = page("run-folder.md")
    metrics = section(text, "`metrics.csv`")
    assert ",".join(METRICS_HEADER) in metrics
    for column in METRICS_HEADER:
        assert f"| `{column}` |" in metrics
    epochs = section(text, "`epochs.csv`")
    assert ",".join(EPOCHS_HEADER) in epochs
    for column in EPOCHS_HEADER:
        assert f"| `{column}` |" in epochs
    for name in CHARTS:
        assert code(name) in text
    written = re.findall(
        r'"([\w.]+\.twintrain\.json)"', (ROOT / "engine" / "run_folder.py").read_text()
    )
    for name in ("summary.json", "metrics.csv", "epochs.csv", "report.html", RUN_META, *written):
        assert code(name) in text, name
    for folder in (WEIGHTS_DIR, "tb", "charts", "models"):
        assert code(folder + "/") in text, folder


def test_run_folder_page_has_every_tensorboard_tag():
    source = (ROOT / "engine" / "worker.py").read_text(encoding="utf-8")
    tags = set(re.findall(r'"((?:train|epoch)/[a-z_]+)"', source))
    assert "train/loss" in tags
    text = page("run-folder.md")
    for tag in tags:
        assert code(tag) in text, tag


# ---- exports.md --------------------------------------------------------------------------------


def test_exports_page_has_every_format_and_file():
    text = page("exports.md")
    table = section(text, "Formats and files")
    for name in FORMATS:
        assert f"| `{name}` |" in table, name
    for name in (*FILES.values(), *CODE_FILES.values(), MANIFEST):
        assert code(name) in table, name
    assert f'"{manifest.MANIFEST_FORMAT}"' in text


def test_exports_page_has_every_manifest_key(tmp_path):
    (tmp_path / FILES[("torch", "onnx")]).write_bytes(b"")  # one ONNX file: nothing to run
    cross = manifest.cross_check(tmp_path, None)  # type: ignore[arg-type]
    assert cross is not None
    one = entry("onnx", "torch", FILES[("torch", "onnx")], tmp_path, ok=True)
    path = manifest.write_manifest(tmp_path, [one], cross, project="p")
    doc = json.loads(path.read_text(encoding="utf-8"))
    text = section(page("exports.md"), "`exports.json`")
    for key in [*doc, *doc["files"][0], *doc["cross_check"]]:
        assert code(key) in text, f"exports.json key '{key}' is not in docs/exports.md"


# ---- the repository's own links ----------------------------------------------------------------

SKIP_DIRS = {".git", "build", "dist", "node_modules", "__pycache__"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".json", ".html", ".cfg", ".sh", ".spec", ".xml"}
# Spelled in parts, so that this file does not match itself.
OUTSIDE = re.compile(
    "|".join([r"\.\./shared\b", r"\bshared/[A-Z]+\.md", "FORMATS" + r"\.md", "DESIGN" + r"\.md"])
)


def _repository_files() -> list[Path]:
    """The project's text files; virtual environments, caches and builds are never entered
    (walking .venv took 40 s)."""
    out = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg-info")
        ]
        for name in files:
            path = Path(folder) / name
            if path.suffix in TEXT_SUFFIXES or name == "Makefile":
                out.append(path)
    return sorted(out)


def test_no_file_points_outside_the_repository():
    offenders = []
    for path in _repository_files():
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n + 1}: {line.strip()[:80]}")
    assert not offenders, "references outside the repository:\n" + "\n".join(offenders)


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize(
    "name", ["README.md", "CONTRIBUTING.md", *sorted(f"docs/{p.name}" for p in DOCS.glob("*.md"))]
)
def test_relative_links_lead_somewhere(name):
    path = ROOT / name
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (path.parent / target).exists(), f"{name} links to {target}, which does not exist"
