"""Export format names, which framework writes each, and the file each one produces."""

from __future__ import annotations

from collections.abc import Iterable

from engine.runtimes import RUNTIMES, column_id, file_stem, runtime
from engine.spec.errors import SpecError, closest

# In the order they are listed and written.
FORMATS: tuple[str, ...] = (
    "safetensors",
    "pt2",
    "torchscript",
    "onnx",
    "keras",
    "savedmodel",
    "tflite",
    "code",
)
ALL = "all"

# What each runtime's worker writes (ONNX by several), from the registry (engine.runtimes).
FRAMEWORK_FORMATS: dict[str, tuple[str, ...]] = {r.id: r.exports for r in RUNTIMES.values()}

# A format's file name after the runtime's id ("keras-torch" + ".onnx"); '/' marks a folder.
SUFFIXES: dict[str, str] = {
    "safetensors": ".safetensors",
    "pt2": ".pt2",
    "torchscript": ".torchscript.pt",
    "onnx": ".onnx",
    "keras": ".keras",
    "savedmodel": "_savedmodel/",
    "tflite": ".tflite",
}
# (runtime, format) -> file name in the export folder: torch.onnx, keras-jax.keras, ...
FILES: dict[tuple[str, str], str] = {
    (fw, f): fw + SUFFIXES[f] for fw, formats in FRAMEWORK_FORMATS.items() for f in formats
}


def file_name(column: str, fmt: str) -> str:
    """The file ``column`` writes for ``fmt``: torch.onnx, keras-jax.keras, torch_compile.pt2
    (a non-default mode's export is the same model, named after its column)."""
    return file_stem(column) + SUFFIXES[fmt]


def backend_column(backend: object, default: str = "keras") -> str:
    """The column a built backend trains: its runtime id and mode (``default`` for an object
    without a registered ``name``)."""
    name = str(getattr(backend, "name", "") or default)
    if name not in RUNTIMES:
        return name
    return column_id(name, getattr(backend, "mode", None))


# The standalone scripts of the code format, per runtime that has its own.
CODE_FILES: dict[str, str] = {r.id: r.code_file for r in RUNTIMES.values() if r.code_file}
MANIFEST = "exports.json"


def parse_formats(value: str | Iterable[str]) -> list[str]:
    """'onnx,keras' (or a list) -> the named formats in canonical order; 'all' -> every one.

    An unknown name raises SpecError naming the closest known one, so the CLI can print it on
    one line before any worker starts."""
    items = [value] if isinstance(value, str) else list(value)
    names = [name for item in items for name in str(item).split(",")]
    wanted: set[str] = set()
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name == ALL:
            wanted.update(FORMATS)
        elif name in FORMATS:
            wanted.add(name)
        else:
            raise SpecError(
                f"unknown export format '{raw.strip()}'{closest(name, (*FORMATS, ALL))}; "
                f"known: {', '.join(FORMATS)}, or {ALL}",
                field="formats",
            )
    if not wanted:
        raise SpecError(
            f"no export format given; known: {', '.join(FORMATS)}, or {ALL}", field="formats"
        )
    return [f for f in FORMATS if f in wanted]


def formats_for(framework: str, formats: str | Iterable[str]) -> list[str]:
    """The subset of ``formats`` (names or 'all') that ``framework``'s worker writes (a column:
    a mode writes what its runtime writes)."""
    chosen = parse_formats(formats) if formats else []
    return [f for f in runtime(framework).exports if f in chosen]


def unsupported_for(framework: str, formats: str | Iterable[str]) -> dict[str, str]:
    """{format: why} of the chosen ``formats`` that ``framework`` cannot write (Runtime.no_export),
    so exports.json can say so instead of leaving them out silently."""
    chosen = parse_formats(formats) if formats else []
    return {f: why for f, why in runtime(framework).no_export.items() if f in chosen}
