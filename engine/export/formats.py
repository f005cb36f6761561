"""Export format names, which framework writes each, and the file each one produces."""

from __future__ import annotations

from collections.abc import Iterable

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

# What each framework's worker writes (ONNX is written by both).
FRAMEWORK_FORMATS: dict[str, tuple[str, ...]] = {
    "torch": ("safetensors", "pt2", "torchscript", "onnx"),
    "tensorflow": ("keras", "savedmodel", "tflite", "onnx"),
}

# (framework, format) -> file name in the export folder; a trailing '/' marks a folder.
FILES: dict[tuple[str, str], str] = {
    ("torch", "safetensors"): "torch.safetensors",
    ("torch", "pt2"): "torch.pt2",
    ("torch", "torchscript"): "torch.torchscript.pt",
    ("torch", "onnx"): "torch.onnx",
    ("tensorflow", "keras"): "tensorflow.keras",
    ("tensorflow", "savedmodel"): "tensorflow_savedmodel/",
    ("tensorflow", "tflite"): "tensorflow.tflite",
    ("tensorflow", "onnx"): "tensorflow.onnx",
}
CODE_FILES: dict[str, str] = {"torch": "model_torch.py", "tensorflow": "model_keras.py"}
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
    """The subset of ``formats`` (names or 'all') that ``framework``'s worker writes."""
    chosen = parse_formats(formats) if formats else []
    return [f for f in FRAMEWORK_FORMATS[framework] if f in chosen]
