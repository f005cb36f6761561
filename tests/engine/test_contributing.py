"""CONTRIBUTING.md stays true: every path, module, make target, registry and function it names
exists, and each "Add a ..." section names every file that such an addition touches today.

"Touches" is read from the code: a file that spells three or more layer type names as string
literals dispatches on the layer type (and so must learn a new one); likewise three or more
dataset names; a file that uses the chart registries (CHARTS, EXPORT_CHARTS, PLOTS); a file that
spells both "torch" and "tensorflow". A new such file fails here until CONTRIBUTING.md lists it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.data import catalog
from engine.spec.layer_types import LAYER_TYPES
from tests.conftest import ROOT

TEXT = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
TOKENS = re.findall(r"`([^`\n]+)`", TEXT)
SOURCES = sorted([*(ROOT / "engine").rglob("*.py"), *(ROOT / "gui").rglob("*.py")])


def section(title: str) -> str:
    parts = re.split(r"(?m)^## ", TEXT)
    found = [p for p in parts if p.startswith(title)]
    assert found, f"CONTRIBUTING.md has no section '## {title}'"
    return found[0]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_it_stays_short():
    assert len(TEXT.splitlines()) < 120


def test_every_path_it_names_exists():
    paths = [t for t in TOKENS if " " not in t and "/" in t and not t.startswith(("-", "*"))]
    assert len(paths) > 30
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"CONTRIBUTING.md names paths that do not exist: {missing}"


def test_every_module_and_make_target_it_names_exists():
    for module in re.findall(r"python -m ([\w.]+)", TEXT):
        base = ROOT / module.replace(".", "/")
        if module == "pytest":
            continue
        assert base.with_suffix(".py").is_file() or (base / "__init__.py").is_file(), module
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"`make ([\w-]+)`", TEXT):
        assert re.search(rf"(?m)^{re.escape(target)}:", makefile), f"make {target}"


def test_every_registry_and_function_it_names_is_defined():
    source = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    for name in [t for t in TOKENS if re.fullmatch(r"[A-Z][A-Z0-9_]+", t)]:
        assert re.search(rf"(?m)^\s*{name}\b[^=\n]*=", source), f"{name} is defined nowhere"
    for name in [t[:-2] for t in TOKENS if re.fullmatch(r"\w+\(\)", t)]:
        assert re.search(rf"\bdef {name}\(", source), f"{name}() is defined nowhere"


def _literal_files(names, at_least: int) -> set[str]:
    alternatives = "|".join(map(re.escape, names))
    pattern = re.compile(rf"""["']({alternatives})["']""")
    out = set()
    for path in SOURCES:
        if len(set(pattern.findall(path.read_text(encoding="utf-8")))) >= at_least:
            out.add(relative(path))
    return out


def _files_using(pattern: str) -> set[str]:
    regex = re.compile(pattern)
    return {relative(p) for p in SOURCES if regex.search(p.read_text(encoding="utf-8"))}


TOUCHED = {
    "Add a layer type": lambda: _literal_files(LAYER_TYPES, 3),
    "Add a dataset kind": lambda: _literal_files(catalog.NAMES, 3),
    "Add a chart": lambda: _files_using(r"\b(CHARTS|EXPORT_CHARTS|PLOTS)\b"),
    "Add a runtime": lambda: _literal_files(("torch",), 1) & _literal_files(("tensorflow",), 1),
}


@pytest.mark.parametrize("title", sorted(TOUCHED))
def test_each_section_names_every_file_such_a_change_touches(title):
    text = section(title)
    touched = TOUCHED[title]()
    assert touched, f"nothing found for '{title}': the scan itself is broken"
    missing = sorted(f for f in touched if f"`{f}`" not in text)
    assert not missing, (
        f"these files take part in '{title}' but CONTRIBUTING.md's section does not name them: "
        f"{missing}"
    )
