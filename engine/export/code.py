"""Code export: ``model_torch.py`` and ``model_keras.py``, standalone scripts for a project.

Framework-free (the scripts are text), so it runs in the parent process. Each script is
compiled before it is reported ok; running them is the tests' job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.export.code_common import Settings, settings
from engine.export.code_data import PREPARED, PREPARED_FILE
from engine.export.code_keras import keras_source
from engine.export.code_torch import torch_source
from engine.export.common import Entry, entry, one_line, write_text
from engine.export.formats import CODE_FILES
from engine.spec.project import Project

GENERATORS: dict[str, Callable[[Settings], str]] = {
    "torch": torch_source,
    "tensorflow": keras_source,
}


def generate(project: Project) -> dict[str, str]:
    """{framework: script source} for a project; raises SpecError/ValueError if it cannot."""
    s = settings(project)
    return {framework: make(s) for framework, make in GENERATORS.items()}


def _write_prepared(project: Project, path: Path) -> None:
    """The dataset's raw x and y, as engine.data.load.generate makes them, for the scripts."""
    import io

    import numpy as np

    from engine.data.catalog import resolve
    from engine.data.load import generate
    from engine.spec.project import write_atomic

    dataset = resolve(project.training["dataset"])
    seed = int(project.training.get("seed", 0))
    x, y = generate(dataset, seed, project.base_dir)
    extra: dict[str, np.ndarray] = {}
    if dataset["name"] == "text_csv":  # the scripts' encode() and class_names() read these
        from engine.data.text_csv import vocabulary

        words, names = vocabulary(dataset, seed, project.base_dir)
        extra = {"vocabulary": np.array(words, dtype=str), "classes": np.array(names, dtype=str)}
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, x=x, y=y, **extra)
    write_atomic(path, buffer.getvalue())


def write_code(project: Project, out_dir: Path) -> list[Entry]:
    """Write both scripts into ``out_dir``; one entry each. Never raises."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        s = settings(project)
    except Exception as exc:
        return [
            entry("code", fw, name, out_dir, ok=False, reason=one_line(exc))
            for fw, name in CODE_FILES.items()
        ]
    user_file = s.dataset["name"] in ("csv", "npz")
    if s.dataset["name"] in PREPARED:
        try:
            _write_prepared(project, out_dir / PREPARED_FILE)
        except Exception as exc:
            return [
                entry("code", fw, name, out_dir, ok=False, reason=one_line(exc))
                for fw, name in CODE_FILES.items()
            ]
    entries = []
    for framework, make in GENERATORS.items():
        name = CODE_FILES[framework]
        try:
            source = make(s)
            compile(source, name, "exec")
            write_text(out_dir / name, source)
        except Exception as exc:
            entries.append(entry("code", framework, name, out_dir, ok=False, reason=one_line(exc)))
            continue
        extra: dict[str, Any] = (
            {
                "note": "reads the data file named in DATA_FILE; "
                f"copy '{s.dataset['path']}' next to it"
            }
            if user_file
            else {}
        )
        entries.append(
            entry(
                "code",
                framework,
                name,
                out_dir,
                ok=True,
                check="compile() of the generated source",
                **extra,
            )
        )
    return entries
