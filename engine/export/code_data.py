"""The data part of the generated scripts: the same samples, split and scaling as TwinTrain.

The code for the project's one dataset is written out (generator or scikit-learn loader,
seeded as engine.data.load does), so both scripts train on exactly the arrays TwinTrain used.
A user's CSV/NPZ file gets a clearly marked placeholder path and a small loader.
"""

from __future__ import annotations

from pathlib import PurePath

from engine.export.code_common import Settings, comment_lines, literal

_SKLEARN = {
    "moons": "make_moons",
    "circles": "make_circles",
    "blobs": "make_blobs",
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
}
_SEED_NOTE = "    # TwinTrain draws a scikit-learn seed first; kept so that the samples match."


# Datasets the scripts read from a prepared ``dataset.npz`` the export writes beside them (x and
# y exactly as TwinTrain made them: MNIST-1D's generated signals, a text CSV's word ids with
# the vocabulary of the training split, an image folder decoded and resized), instead of
# repeating a generator, a tokenizer or an image decoder in every script.
PREPARED = ("mnist1d", "text_csv", "image_folder")
PREPARED_FILE = "dataset.npz"
# The import lines of ``imports`` that are Python's own (sorted apart from the third-party ones).
STANDARD_LIBRARY = ("import csv", "import re", "from pathlib")


def imports(s: Settings) -> list[str]:
    """Import lines the data code needs (standard library first, then third party)."""
    name = s.dataset["name"]
    std = []
    if name == "csv":
        std.append("import csv")
    if name == "text_csv":
        std.append("import re")
    if name in ("csv", "npz") or name in PREPARED:
        std.append("from pathlib import Path")
    third = ["import numpy as np"]
    if name in _SKLEARN:
        third.append(f"from sklearn.datasets import {_SKLEARN[name]}")
    return std + ([""] if std else []) + third


def constants(s: Settings) -> list[str]:
    lines = [
        f"SEED = {s.seed}",
        f"VALIDATION_SPLIT = {literal(float(s.dataset['validation_split']))}",
        f"BATCH_SIZE = {s.batch_size}",
        f"EPOCHS = {s.epochs}",
    ]
    if s.dataset["name"] == "text_csv":
        lines.append(f"LENGTH = {int(s.dataset['length'])}  # word ids per text")
    return lines


def predict_argument(s: Settings) -> list[str]:
    """--predict TEXT...: a text set's scripts classify new sentences with the vocabulary of
    the training split, as TwinTrain encoded the training texts."""
    if s.dataset["name"] != "text_csv":
        return []
    return [
        "    parser.add_argument(",
        '        "--predict",',
        '        nargs="*",',
        "        default=[],",
        '        metavar="TEXT",',
        '        help="after training, print the class of each TEXT",',
        "    )",
    ]


def predictions(s: Settings, scores: list[str]) -> list[str]:
    """The end of main() for --predict; ``scores``: the lines that set ``scores`` (a numpy
    array of class scores) from ``x = encode(args.predict)``."""
    if s.dataset["name"] != "text_csv":
        return []
    return [
        "    if args.predict:",
        "        x = encode(args.predict)",
        *scores,
        "        names = class_names()",
        "        for text, k in zip(args.predict, scores.argmax(axis=-1).tolist(), strict=True):",
        '            print(f"{names[k]}: {text}", flush=True)',
    ]


def user_file(s: Settings) -> list[str]:
    """The marked block naming a user's data file (empty for the built-in datasets)."""
    out: list[str] = []
    name = s.dataset["name"]
    if name in PREPARED:
        out += [
            "",
            "# " + "-" * 76,
            *comment_lines(
                "",
                f"YOUR DATA: the '{name}' dataset as TwinTrain prepared it, written beside this "
                f"script by the export as {PREPARED_FILE} (arrays x and y).",
            ),
            f"DATA_FILE = Path(__file__).with_name({literal(PREPARED_FILE)})",
            "# " + "-" * 76,
        ]
    if name in ("csv", "npz"):
        shown = PurePath(s.dataset["path"]).name
        out += [
            "",
            "# " + "-" * 76,
            *comment_lines(
                "",
                f"YOUR DATA: the project trained on '{s.dataset['path']}' (relative to "
                "the project file). Put that file next to this script, or change DATA_FILE.",
            ),
            f"DATA_FILE = Path(__file__).with_name({literal(shown)})",
        ]
        if name == "csv":
            out.append(f"TARGET_COLUMN = {literal(s.dataset['target'])}")
        out.append("# " + "-" * 76)
    return out


def functions(s: Settings) -> list[str]:
    """``load_dataset()`` (raw x, y) and ``load_data()`` (split, scaled, typed); for a text
    set also ``encode()`` and ``class_names()``."""
    text = ["", "", *_encode()] if s.dataset["name"] == "text_csv" else []
    return [*_load_dataset(s), "", "", *_load_data(s), *text]


def _encode() -> list[str]:
    return [
        "def encode(texts):",
        '    """Word ids as TwinTrain made them: lower-cased runs of letters, looked up in the',
        "    vocabulary of the training split (0 pads, 1 is an unknown word), cut or padded to",
        '    LENGTH."""',
        "    with np.load(DATA_FILE, allow_pickle=False) as data:",
        '        vocabulary = data["vocabulary"].tolist()',
        "    ids = {word: i for i, word in enumerate(vocabulary) if i >= 2}",
        "    x = np.zeros((len(texts), LENGTH), dtype=np.float32)",
        "    for row, text in enumerate(texts):",
        '        words = re.findall(r"[^\\W\\d_]+", text.lower())[:LENGTH]',
        "        x[row, : len(words)] = [ids.get(word, 1) for word in words]",
        "    return x",
        "",
        "",
        "def class_names():",
        '    """The labels of the CSV, by class id (sorted, as TwinTrain numbers them)."""',
        "    with np.load(DATA_FILE, allow_pickle=False) as data:",
        '        return data["classes"].tolist()',
    ]


def _rng(draw_seed: bool) -> list[str]:
    lines = ["    rng = np.random.default_rng([SEED, 0])"]
    if draw_seed:
        lines.append("    random_state = int(rng.integers(0, 2**31 - 1))")
    else:
        lines += [_SEED_NOTE, "    rng.integers(0, 2**31 - 1)"]
    return lines


def _load_dataset(s: Settings) -> list[str]:
    d, name = s.dataset, s.dataset["name"]
    head = ["def load_dataset():"]
    if name == "xor":
        n, noise = d["n_samples"], literal(float(d["noise"]))
        return head + [
            f'    """XOR: {n} points in [-1, 1]^2; class 1 where exactly one coordinate is > 0."""',
            *_rng(False),
            f"    x = rng.uniform(-1, 1, size=({n}, 2))",
            "    y = (x[:, 0] > 0) ^ (x[:, 1] > 0)",
            f"    x = x + rng.normal(0, {noise}, size=x.shape)",
            "    return x, y",
        ]
    if name in ("moons", "circles", "blobs"):
        n, noise = d["n_samples"], literal(float(d["noise"]))
        args = {
            "moons": f"{n}, noise={noise}",
            "circles": f"{n}, noise={noise}, factor=0.5",
            "blobs": f"{n}, centers={d.get('n_classes')}, cluster_std={noise}",
        }[name]
        return head + [
            f'    """scikit-learn\'s {_SKLEARN[name]}, seeded as TwinTrain seeds it."""',
            *_rng(True),
            f"    return {_SKLEARN[name]}({args}, random_state=random_state)",
        ]
    if name == "spirals":
        n, k, noise = d["n_samples"], d["n_classes"], literal(float(d["noise"]))
        return head + [
            f'    """{k} interleaved spirals, {n} points in all, with angular noise {noise}."""',
            *_rng(False),
            f"    n, k = {n}, {k}",
            "    xs, ys = [], []",
            "    for c in range(k):",
            "        m = n // k + (1 if c < n % k else 0)",
            "        r = np.linspace(0.05, 1.0, m)",
            "        start = c * 2 * np.pi / k",
            f"        theta = np.linspace(start, start + 3 * np.pi, m) + rng.normal(0, {noise}, m)",
            "        xs.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))",
            "        ys.append(np.full(m, c))",
            "    return np.concatenate(xs), np.concatenate(ys)",
        ]
    if name == "sine_sequence":
        n, length, noise = d["n_samples"], d["length"], literal(float(d["noise"]))
        return head + [
            f'    """{n} windows of {length} values of a noisy sine wave; '
            'the target is the next value."""',
            *_rng(False),
            f"    n, length = {n}, {length}",
            "    freq = rng.uniform(0.1, 0.5, size=(n, 1))",
            "    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))",
            "    t = np.arange(length + 1)[None, :]",
            f"    noise = rng.normal(0, {noise}, size=(n, length + 1))",
            "    wave = np.sin(freq * t + phase) + noise",
            "    return wave[:, :length, None], wave[:, length:]",
        ]
    if name == "parity_bits":
        n, length = d["n_samples"], d["length"]
        return head + [
            f'    """{n} strings of {length} random bits; the class is their parity."""',
            *_rng(False),
            f"    bits = rng.integers(0, 2, size=({n}, {length}))",
            "    return bits[:, :, None], bits.sum(axis=1) % 2",
        ]
    if name in ("digits", "iris", "wine", "breast_cancer", "diabetes"):
        x = "bunch.data.reshape(-1, 8, 8, 1)" if name == "digits" else "bunch.data"
        y = "bunch.target.reshape(-1, 1)" if name == "diabetes" else "bunch.target"
        what = "8x8 images, one channel" if name == "digits" else "tabular features"
        return head + [
            f'    """The {name} data bundled with scikit-learn ({what})."""',
            f"    bunch = {_SKLEARN[name]}()",
            f"    return {x}, {y}",
        ]
    if name == "csv":
        return head + [
            '    """Every column but TARGET_COLUMN is a feature; text labels are numbered A-Z."""'
            if s.classification
            else '    """Every column but TARGET_COLUMN is a feature; the target is a number."""',
            '    with open(DATA_FILE, newline="", encoding="utf-8-sig") as f:',
            "        rows = [row for row in csv.reader(f) if any(c.strip() for c in row)]",
            "    header = [h.strip() for h in rows[0]]",
            "    t = header.index(TARGET_COLUMN)",
            "    x = [[float(v) for i, v in enumerate(row) if i != t] for row in rows[1:]]",
            "    labels = [row[t].strip() for row in rows[1:]]",
            *_labels(s),
        ]
    if name == "npz" or name in PREPARED:
        return head + [
            '    """Arrays x and y from the .npz file (read without pickle)."""',
            "    with np.load(DATA_FILE, allow_pickle=False) as data:",
            '        x, labels = data["x"], data["y"]',
            "    if x.ndim < 2:",
            "        x = x.reshape(-1, 1)",
            *_labels(s),
        ]
    raise ValueError(f"no code export for dataset '{name}'")


def _labels(s: Settings) -> list[str]:
    """Labels as TwinTrain reads them: numbers, or text numbered in sorted order."""
    if not s.classification:
        return ["    return x, np.asarray(labels, dtype=np.float64).reshape(len(labels), -1)"]
    return [
        "    try:",
        "        y = np.asarray(labels, dtype=np.float64)",
        "    except ValueError:  # text labels",
        "        names = sorted(set(np.asarray(labels).tolist()))",
        "        y = np.array([names.index(v) for v in np.asarray(labels).tolist()])",
        "    return x, y.reshape(-1)",
    ]


def _load_data(s: Settings) -> list[str]:
    d, name = s.dataset, s.dataset["name"]
    ytype = "np.int64" if _labels_are_classes(s) else "np.float32"
    out = [
        "def load_data():",
        '    """Train and validation arrays, split, scaled and typed as TwinTrain does."""',
        "    x, y = load_dataset()",
        "    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=" + ytype + ")",
        "    order = np.random.default_rng([SEED, 2]).permutation(len(x))",
        "    n_val = int(round(len(x) * VALIDATION_SPLIT))",
        "    val, train = order[:n_val], order[n_val:]",
        "    x_train, x_val, y_train, y_val = x[train], x[val], y[train], y[val]",
    ]
    norm = d["normalize"]
    if norm == "pixels":
        scale = "16.0" if name == "digits" else "255.0"
        out += [
            f"    # Pixel values scaled to [0, 1] (they run from 0 to {scale[:-2]}).",
            f"    x_train, x_val = x_train / np.float32({scale}), x_val / np.float32({scale})",
        ]
    elif norm == "standard":
        out += [
            "    # Each feature standardised with the training split's mean and deviation.",
            "    mean = x_train.mean(axis=0, dtype=np.float64)",
            "    std = x_train.std(axis=0, dtype=np.float64)",
            "    std[std == 0] = 1.0",
            "    x_train = ((x_train - mean) / std).astype(np.float32)",
            "    x_val = ((x_val - mean) / std).astype(np.float32)",
        ]
        if not _labels_are_classes(s) and name in ("diabetes", "csv"):
            out += [
                "    # Regression targets standardised the same way.",
                "    y_mean, y_std = y_train.mean(axis=0), y_train.std(axis=0)",
                "    y_std[y_std == 0] = 1.0",
                "    y_train = ((y_train - y_mean) / y_std).astype(np.float32)",
                "    y_val = ((y_val - y_mean) / y_std).astype(np.float32)",
            ]
    else:
        out.append("    # No scaling (normalize: none).")
    if s.target == "input":
        out.append(
            "    y_train, y_val = x_train.copy(), x_val.copy()  # autoencoder: target = input"
        )
    elif s.plan.loss == "binary_cross_entropy":
        out += [
            "    # One logit per sample: binary targets as float32 [N, 1].",
            "    y_train = y_train.reshape(-1, 1).astype(np.float32)",
            "    y_val = y_val.reshape(-1, 1).astype(np.float32)",
        ]
    out.append("    return x_train, y_train, x_val, y_val")
    return out


def _labels_are_classes(s: Settings) -> bool:
    if s.info is not None:
        return s.info.task == "classification"
    return s.classification
