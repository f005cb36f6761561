"""The requirements of the headless test venv (`make test-headless`): TwinTrain without Qt.

Reads the installed project's own metadata (run `pip install --no-deps -e .` first), so the list
follows pyproject.toml: the runtime requirements, those of one extra (cpu or gpu) and the test
tools named below, minus PySide6, shiboken6 and pyqtgraph, which only the desktop app needs.
Prints one requirement a line, for `pip install -r`.

    python tests/headless_requirements.py cpu > requirements.txt
"""

from __future__ import annotations

import sys
from importlib.metadata import requires

from packaging.requirements import Requirement

QT = ("pyside6", "shiboken6", "pyqtgraph", "pytest-qt")
# The test tools of the dev extra that tests/engine needs (no linters, no pytest-qt).
TEST_TOOLS = ("pytest", "pytest-timeout", "hypothesis")


def headless_requirements(extra: str) -> list[str]:
    out: list[str] = []
    for line in requires("twintrain") or []:
        req = Requirement(line)
        name = req.name.lower()
        if name.startswith(QT):
            continue
        wanted = req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ("", extra))
        if not wanted and not (name in TEST_TOOLS and req.marker.evaluate({"extra": "dev"})):
            continue
        req.marker = None
        if str(req) not in out:
            out.append(str(req))
    return out


if __name__ == "__main__":
    print("\n".join(headless_requirements(sys.argv[1] if len(sys.argv) > 1 else "cpu")))
