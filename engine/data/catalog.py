"""The datasets a project can name: their parameters and what each gives the model per sample.

``describe`` answers "what shape and task" without generating data (files are peeked at), so a
project can be checked against its dataset before anything trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.spec.params import Param

SYNTHETIC = (
    "xor",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "sine_sequence",
    "parity_bits",
    "mnist1d",
)
BUNDLED = ("digits", "iris", "wine", "breast_cancer", "diabetes")
FILES = ("csv", "npz", "text_csv", "image_folder")
NAMES = SYNTHETIC + BUNDLED + FILES

# Pixel sets are scaled to [0, 1]; tabular sets are standardised on the training split;
# sequences and user arrays are left as they are unless the project says otherwise.
PIXEL_SETS = ("digits",)
TABULAR_SETS = (
    "xor",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "iris",
    "wine",
    "breast_cancer",
    "diabetes",
    "csv",
)

COMMON = (
    Param(
        "validation_split",
        "float",
        0.2,
        minimum=0.0,
        maximum=0.9,
        doc="Fraction held out for validation.",
    ),
    Param(
        "normalize",
        "choice",
        "default",
        choices=("default", "standard", "none"),
        doc="'standard' scales features on the training split; 'default' picks per dataset.",
    ),
)

_N = Param(
    "n_samples", "int", 1000, minimum=10, maximum=1_000_000, doc="Number of samples generated."
)
_NOISE = Param("noise", "float", 0.1, minimum=0.0, maximum=10.0, doc="Noise added to the points.")
_CLASSES = Param("n_classes", "int", 3, minimum=2, maximum=100, doc="Number of classes.")

DATASET_PARAMS: dict[str, tuple[Param, ...]] = {
    "xor": (
        _N,
        Param("noise", "float", 0.05, minimum=0.0, maximum=10.0, doc="Noise added to the points."),
    ),
    "moons": (_N, _NOISE),
    "circles": (
        _N,
        Param("noise", "float", 0.05, minimum=0.0, maximum=10.0, doc="Noise added to the points."),
    ),
    "spirals": (
        _N,
        Param("noise", "float", 0.2, minimum=0.0, maximum=10.0, doc="Angular noise."),
        _CLASSES,
    ),
    "blobs": (
        _N,
        Param("noise", "float", 1.0, minimum=0.0, maximum=10.0, doc="Cluster standard deviation."),
        _CLASSES,
    ),
    "sine_sequence": (
        Param("n_samples", "int", 2000, minimum=10, maximum=1_000_000, doc="Number of windows."),
        Param("noise", "float", 0.0, minimum=0.0, maximum=10.0, doc="Noise added to the values."),
        Param("length", "int", 20, minimum=2, maximum=10_000, doc="Time steps per window."),
    ),
    "parity_bits": (
        Param(
            "n_samples", "int", 2000, minimum=10, maximum=1_000_000, doc="Number of bit strings."
        ),
        Param("length", "int", 8, minimum=1, maximum=10_000, doc="Bits per string."),
    ),
    "mnist1d": (
        Param("n_samples", "int", 4000, minimum=10, maximum=1_000_000, doc="Number of signals."),
    ),
    "digits": (),
    "iris": (),
    "wine": (),
    "breast_cancer": (),
    "diabetes": (),
    "csv": (
        Param("path", "str", doc="CSV file, relative to the project file."),
        Param("target", "str", doc="Name of the label column."),
        Param(
            "task",
            "choice",
            "auto",
            choices=("auto", "classification", "regression"),
            doc="Inferred from the labels when 'auto'.",
        ),
    ),
    "npz": (
        Param("path", "str", doc="NPZ file with arrays x and y, relative to the project file."),
        Param(
            "task",
            "choice",
            "auto",
            choices=("auto", "classification", "regression"),
            doc="Inferred from y when 'auto'.",
        ),
    ),
    "text_csv": (
        Param("path", "str", doc="CSV file, relative to the project file."),
        Param("text", "str", "text", doc="Name of the text column."),
        Param("label", "str", "label", doc="Name of the label column (class names)."),
        Param(
            "vocab_size",
            "int",
            2000,
            minimum=3,
            maximum=1 << 20,
            doc="Word ids 0 to vocab_size - 1: 0 pads, 1 is an unknown word.",
        ),
        Param("length", "int", 32, minimum=1, maximum=10_000, doc="Word ids per text."),
    ),
    "image_folder": (
        Param("path", "str", doc="Folder with one sub-folder per class, relative to the project."),
        Param(
            "size",
            "int_or_pair",
            None,
            minimum=1,
            maximum=4096,
            nullable=True,
            doc="[H, W] every image is resized to (bilinear); null keeps the images' own size.",
        ),
        Param("color", "choice", "rgb", choices=("rgb", "grayscale"), doc="Channels: 3 or 1."),
        Param(
            "max_per_class",
            "int",
            None,
            minimum=1,
            maximum=1_000_000,
            nullable=True,
            doc="Use at most this many images of each class (the first by name).",
        ),
    ),
}

# The reference page's table row of each file kind: (source, x per sample, target, samples);
# x is formatted with the resolved defaults.
FILE_CELLS: dict[str, tuple[str, str, str, str]] = {
    "csv": (
        "your file",
        "one column per feature",
        "column `target`: classes or numbers (`task`)",
        "the file's",
    ),
    "npz": (
        "your file",
        "array `x`, as stored",
        "array `y`: classes or numbers (`task`)",
        "the file's",
    ),
    "text_csv": (
        "your file",
        "`[{length}]` word ids (`length`)",
        "column `label`: classes",
        "the file's",
    ),
    "image_folder": (
        "your folder",
        "`[H, W, C]` pixels (`size`, `color`)",
        "one class per sub-folder",
        "the folder's",
    ),
}

_FIXED = {
    "xor": ((2,), 2),
    "moons": ((2,), 2),
    "circles": ((2,), 2),
    "digits": ((8, 8, 1), 10),
    "iris": ((4,), 3),
    "wine": ((13,), 3),
    "breast_cancer": ((30,), 2),
}


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset gives the model per sample."""

    name: str
    x_shape: tuple[int, ...]
    task: str  # "classification" or "regression"
    n_classes: int | None  # classification only
    y_shape: tuple[int, ...]  # regression target shape per sample; () for class labels
    n_samples: int
    label_note: str = (
        ""  # user files: where the largest class label is (named when the model is too small)
    )
    class_names: tuple[str, ...] = ()  # image_folder and text_csv: the names, by class id

    def describe_target(self) -> str:
        if self.task == "classification":
            return f"{self.n_classes} classes"
        return f"regression {list(self.y_shape)}"


def resolve(dataset: dict) -> dict:
    """The dataset section with every default filled in (assumes it validated)."""
    name = dataset["name"]
    out: dict[str, Any] = {"name": name}
    for p in COMMON + DATASET_PARAMS[name]:
        if p.name in dataset:
            out[p.name] = dataset[p.name]
        elif not p.required:
            out[p.name] = p.default
    if out["normalize"] == "default":
        out["normalize"] = (
            "standard" if name in TABULAR_SETS else ("pixels" if name in PIXEL_SETS else "none")
        )
    return out


def describe(dataset: dict, base_dir: Path | None = None) -> DatasetInfo:
    """Shape and task of a validated dataset section; files are read only as far as needed."""
    d = resolve(dataset)
    name = d["name"]
    if name in _FIXED:
        shape, classes = _FIXED[name]
        sizes = {"digits": 1797, "iris": 150, "wine": 178, "breast_cancer": 569}
        return DatasetInfo(
            name, shape, "classification", classes, (), sizes.get(name, d.get("n_samples", 0))
        )
    if name in ("spirals", "blobs"):
        return DatasetInfo(name, (2,), "classification", d["n_classes"], (), d["n_samples"])
    if name == "sine_sequence":
        return DatasetInfo(name, (d["length"], 1), "regression", None, (1,), d["n_samples"])
    if name == "parity_bits":
        return DatasetInfo(name, (d["length"], 1), "classification", 2, (), d["n_samples"])
    if name == "diabetes":
        return DatasetInfo(name, (10,), "regression", None, (1,), 442)
    if name == "mnist1d":
        return DatasetInfo(name, (40, 1), "classification", 10, (), d["n_samples"])
    if name == "text_csv":
        if "path" not in d:  # the reference page's table: the shape alone, no file named
            return DatasetInfo(name, (d["length"],), "classification", None, (), 0)
        from engine.data import text_csv

        n, names = text_csv.count(d, base_dir)
        return DatasetInfo(
            name, (d["length"],), "classification", len(names), (), n, class_names=tuple(names)
        )
    if name == "image_folder":
        from engine.data import images

        x, y, folders = images.load_uint8(d, base_dir)
        return DatasetInfo(
            name,
            tuple(x.shape[1:]),
            "classification",
            len(folders),
            (),
            len(x),
            class_names=tuple(folders),
        )
    from engine.data.files import describe_file

    return describe_file(d, base_dir)
