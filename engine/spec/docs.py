"""The project file's reference, generated from the registries so that it cannot drift.

Two files come out of this module, both kept in the repository:

- ``docs/twintrain.schema.json``: a JSON Schema (draft 2020-12) of ``*.twintrain.json``, so that
  VS Code and other editors complete and check project files as they are typed;
- ``docs/project-file.md``: the same keys as a page to read, every default and range included.

Both are built from what the loader itself validates with: the layer registry
(``engine/spec/layer_types.py``), the training keys and optimizers (``engine/spec/training.py``),
the dataset catalog (``engine/data/catalog.py``) and the loader's limits
(``engine/spec/project.py``). After changing any of them, regenerate and commit the files::

    python -m engine.spec.docs           # rewrite what changed
    python -m engine.spec.docs --check   # exit 1 if a file on disk is stale (the tests run this)

The schema checks a file's structure, as ``engine.spec.project.from_dict`` does; what needs the
whole graph (references, cycles, shapes, the dataset's fit) or a data file is the loader's alone,
and the page says which checks those are.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from engine.data import catalog
from engine.data.images import MAX_PIXELS as IMAGE_MAX_PIXELS
from engine.spec import project as loader
from engine.spec.layer_types import GROUPS, LAYER_TYPES, LayerType
from engine.spec.params import ACTIVATIONS, MAX_DIM, Param
from engine.spec.training import OPTIMIZER_PARAMS, OPTIMIZERS, TRAINING_PARAMS

Schema = dict[str, Any]

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
SCHEMA_FILE = "twintrain.schema.json"
MARKDOWN_FILE = "project-file.md"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# Limits the loader writes as literals (engine/spec/params.py, engine/spec/project.py); the tests
# hold the schema to them at both edges, so a change there fails until this follows.
MAX_TEXT = 4096  # a "str" parameter (a data file's path, a CSV column name)
MAX_NAME = 10_000  # the project's name and description
MAX_AXES = 8  # axes of a per-sample shape
DEFAULT_OPTIMIZER = "adam"  # training.optimizer (or its name) left out
X_KEY = "^x-"  # keys kept on load and save that never affect training

X_KEYS_NOTE = "Any key starting with `x-` is kept on load and save and never affects training."

KIND_TYPES = {
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "choice": "string",
    "str": "text",
    "int_or_pair": "integer or [h, w]",
    "shape": "list of integers",
}

# The page's example: a preset, shown as the file is (the preset tests load and train it).
EXAMPLE_PRESET = "digits_cnn"


def example_text() -> str:
    from engine.presets import SUFFIX, presets_dir

    return (presets_dir() / f"{EXAMPLE_PRESET}{SUFFIX}").read_text(encoding="utf-8").rstrip("\n")


# ---- the JSON Schema ---------------------------------------------------------------------------


def _number(p: Param, json_type: str) -> Schema:
    out: Schema = {"type": json_type}
    if p.minimum is not None:
        out["exclusiveMinimum" if p.exclusive_min else "minimum"] = _plain(p.minimum, p.kind)
    if p.maximum is not None:
        out["exclusiveMaximum" if p.exclusive_max else "maximum"] = _plain(p.maximum, p.kind)
    return out


def _plain(value: float, kind: str) -> int | float:
    """A bound as JSON writes it: an integer parameter's bounds without a decimal point."""
    return int(value) if kind in ("int", "int_or_pair") else value


def shape_schema(allow_minus_one: bool = False) -> Schema:
    """A per-sample shape, as ``engine.spec.params.check_shape`` accepts it."""
    entry: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_DIM}
    out: Schema = {"type": "array", "minItems": 1, "maxItems": MAX_AXES, "items": entry}
    if allow_minus_one:
        out["items"] = {"anyOf": [{"const": -1}, entry]}
        out["contains"] = {"const": -1}
        out["minContains"] = 0
        out["maxContains"] = 1
    return out


def param_schema(p: Param) -> Schema:
    """One parameter's schema: its type and range, its default and what it does."""
    if p.kind == "int":
        body = _number(p, "integer")
    elif p.kind == "float":
        body = _number(p, "number")
    elif p.kind == "bool":
        body = {"type": "boolean"}
    elif p.kind == "choice":
        body = {"type": "string", "enum": list(p.choices)}
    elif p.kind == "str":
        body = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "pattern": "\\S"}
    elif p.kind == "int_or_pair":
        single = _number(p, "integer")
        pair = {"type": "array", "minItems": 2, "maxItems": 2, "items": single}
        body = {"anyOf": [single, pair]}
    elif p.kind == "shape":
        body = shape_schema(bool(p.extra.get("allow_minus_one")))
    else:  # a kind added to engine.spec.params without a schema here
        raise ValueError(f"parameter '{p.name}' has kind '{p.kind}', which has no schema")
    if p.nullable:
        body = {"anyOf": [body, {"type": "null"}]}
    out: Schema = {"description": p.doc} if p.doc else {}
    if not p.required:
        out["default"] = p.default
    out.update(body)
    return out


def _section(
    params: tuple[Param, ...], fixed: dict[str, Schema], required: tuple[str, ...] = ()
) -> Schema:
    """An object of known keys (``fixed`` first, then ``params``) plus ``x-`` keys, nothing else."""
    properties: Schema = dict(fixed)
    properties.update({p.name: param_schema(p) for p in params})
    names = [*required, *(p.name for p in params if p.required)]
    out: Schema = {"type": "object", "properties": properties}
    if names:
        out["required"] = names
    out["patternProperties"] = {X_KEY: {}}
    out["additionalProperties"] = False
    return out


def _inputs_schema(lt: LayerType) -> Schema:
    many = lt.max_inputs > 1
    return {
        "description": (
            f"Ids of the {lt.min_inputs} to {lt.max_inputs} layers (or 'input') it joins."
            if many
            else "The one layer (or 'input') it reads; default: the layer before it."
        ),
        "type": "array",
        "items": {"type": "string"},
        "minItems": max(1, lt.min_inputs),
        "maxItems": lt.max_inputs,
    }


def layer_schema(lt: LayerType) -> Schema:
    fixed: dict[str, Schema] = {
        "id": {"$ref": "#/$defs/id"},
        "type": {"const": lt.name},
        "inputs": _inputs_schema(lt),
    }
    required = ("id", "type", "inputs") if lt.min_inputs > 1 else ("id", "type")
    return {"title": lt.name, "description": lt.doc, **_section(lt.params, fixed, required)}


def _dispatch(key: str, names: tuple[str, ...], prefix: str, default: str | None = None) -> Schema:
    """allOf of if/then: the object whose ``key`` is a name follows that name's definition (an
    object without ``key`` follows ``default``'s, as the loader reads it)."""
    rules = []
    for name in names:
        when: Schema = {"properties": {key: {"const": name}}}
        if name != default:
            when["required"] = [key]
        rules.append({"if": when, "then": {"$ref": f"#/$defs/{prefix}{name}"}})
    return {"allOf": rules}


def json_schema() -> Schema:
    """The JSON Schema of a project file, built from the registries."""
    defs: Schema = {
        "id": {
            "description": "A layer id: unique, letters, digits and _, not starting with a digit.",
            "type": "string",
            # (?!\n): validators whose $ also matches before a final newline (Python's re) must
            # refuse "a\n" as ECMA-262 and the loader do.
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*(?!\\n)$",
            "maxLength": loader.MAX_ID_LENGTH,
            "not": {"const": loader.INPUT_ID},
        },
        "model": {
            "description": "The network.",
            "type": "object",
            "properties": {
                "input": {
                    "description": "The model input.",
                    "type": "object",
                    "properties": {
                        "shape": {
                            "description": "Shape of one sample, channels-last (no batch axis).",
                            **shape_schema(),
                        }
                    },
                    "required": ["shape"],
                    "patternProperties": {X_KEY: {}},
                    "additionalProperties": False,
                },
                "layers": {
                    "description": "The layers, in order; each reads the one before it unless "
                    "it names its 'inputs'.",
                    "type": "array",
                    "minItems": 1,
                    "maxItems": loader.MAX_LAYERS,
                    "items": {"$ref": "#/$defs/layer"},
                },
                "output": {
                    "description": "Id of the layer whose result is the model output; "
                    "default: the last layer.",
                    "anyOf": [{"$ref": "#/$defs/id"}, {"type": "null"}],
                },
            },
            "required": ["input", "layers"],
            "patternProperties": {X_KEY: {}},
            "additionalProperties": False,
        },
        "layer": {
            "description": "One layer: its id, its type and that type's parameters.",
            "type": "object",
            "properties": {"type": {"enum": list(LAYER_TYPES)}},
            "required": ["id", "type"],
            **_dispatch("type", tuple(LAYER_TYPES), "layer-"),
        },
        "training": {
            "description": "How the network is trained.",
            **_section(
                TRAINING_PARAMS,
                {
                    "dataset": {"$ref": "#/$defs/dataset"},
                    "optimizer": {"$ref": "#/$defs/optimizer"},
                },
                ("dataset",),
            ),
        },
        "dataset": {
            "description": "The data the network trains on.",
            "type": "object",
            "properties": {"name": {"enum": list(catalog.NAMES)}},
            "required": ["name"],
            **_dispatch("name", catalog.NAMES, "dataset-"),
        },
        "optimizer": {
            "description": f'The optimizer; default {{"name": "{DEFAULT_OPTIMIZER}"}}.',
            "type": "object",
            "properties": {"name": {"enum": list(OPTIMIZERS), "default": DEFAULT_OPTIMIZER}},
            **_dispatch("name", OPTIMIZERS, "optimizer-", default=DEFAULT_OPTIMIZER),
        },
    }
    for lt in LAYER_TYPES.values():
        defs[f"layer-{lt.name}"] = layer_schema(lt)
    for name in catalog.NAMES:
        params = catalog.COMMON + catalog.DATASET_PARAMS[name]
        defs[f"dataset-{name}"] = _section(params, {"name": {"const": name}}, ("name",))
    for name in OPTIMIZERS:
        name_schema: Schema = {"const": name}
        defs[f"optimizer-{name}"] = _section(OPTIMIZER_PARAMS[name], {"name": name_schema})
    return {
        "$schema": DRAFT,
        "title": f"TwinTrain project file ({loader.FORMAT})",
        "description": "A *.twintrain.json file: the network, how to train it and where its "
        "blocks sit on the canvas. Generated by `python -m engine.spec.docs`; the reference is "
        "docs/project-file.md.",
        "type": "object",
        "properties": {
            "format": {"description": "The format version.", "const": loader.FORMAT},
            "name": {
                "description": "The project's name.",
                "type": "string",
                "maxLength": MAX_NAME,
                "default": "untitled",
            },
            "description": {
                "description": "One line about the project.",
                "type": "string",
                "maxLength": MAX_NAME,
                "default": "",
            },
            "model": {"$ref": "#/$defs/model"},
            "training": {"$ref": "#/$defs/training"},
            "layout": {
                "description": "Where each block sits on the canvas: {id: [x, y]}. Kept on save; "
                "never affects training.",
                "type": ["object", "null"],
            },
        },
        "required": ["format", "model", "training"],
        "patternProperties": {X_KEY: {"description": "Kept on load and save; never read."}},
        "additionalProperties": False,
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# ---- the Markdown page -------------------------------------------------------------------------


def _num(value: float, kind: str) -> str:
    if kind in ("int", "int_or_pair") or float(value).is_integer():
        return str(int(value))
    return f"{value:g}"


def allowed(p: Param) -> str:
    """What values a parameter takes, in words: `[1, 4096]`, `(0, 1]`, `"valid"`, ..."""
    if p.kind in ("int", "float", "int_or_pair"):
        lo = "(-inf" if p.minimum is None else ("(" if p.exclusive_min else "[")
        lo += "" if p.minimum is None else _num(p.minimum, p.kind)
        hi = "inf)" if p.maximum is None else _num(p.maximum, p.kind)
        hi += "" if p.maximum is None else (")" if p.exclusive_max else "]")
        text = f"`{lo}, {hi}`"
        if p.kind == "int_or_pair":
            text += ", or a pair `[h, w]` of such"
    elif p.kind == "bool":
        text = "`true`, `false`"
    elif p.kind == "choice" and p.choices == ACTIVATIONS:
        text = "an activation (listed under Layer types)"
    elif p.kind == "choice":
        text = ", ".join(f'`"{c}"`' for c in p.choices)
    elif p.kind == "str":
        text = f"non-empty text, at most {MAX_TEXT} characters"
    elif p.kind == "shape":
        text = f"1 to {MAX_AXES} integers in `[1, {MAX_DIM}]`"
        if p.extra.get("allow_minus_one"):
            text += "; one of them may be `-1` (inferred)"
    else:
        raise ValueError(f"parameter '{p.name}' has kind '{p.kind}', which has no description")
    return text + (", or `null`" if p.nullable else "")


def _default(p: Param) -> str:
    return "**required**" if p.required else f"`{json.dumps(p.default)}`"


def params_table(params: tuple[Param, ...], key_prefix: str = "") -> list[str]:
    lines = [
        "| key | type | default | allowed | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in params:
        lines.append(
            f"| `{key_prefix}{p.name}` | {KIND_TYPES[p.kind]} | {_default(p)} | {allowed(p)} "
            f"| {p.doc} |"
        )
    return lines


def _inputs_text(lt: LayerType) -> str:
    if lt.max_inputs > 1:
        return f"{lt.min_inputs} to {lt.max_inputs} (`inputs` required)"
    return "1"


def _layer_section(lt: LayerType) -> list[str]:
    lines = [f"#### {lt.name}", "", lt.doc, ""]
    facts = [f"Inputs: {_inputs_text(lt)}."]
    if lt.int_inputs:
        facts.append(
            "It reads integer ids, so it must read the model input directly (nothing trainable "
            "before it)."
        )
    lines += [" ".join(facts), ""]
    if lt.params:
        lines += params_table(lt.params)
    else:
        lines.append("No parameters.")
    return lines + [""]


# Which dataset parameter changes which column of the dataset table (the tests check each).
SHAPING_PARAMS = {"x": "length", "target": "n_classes", "samples": "n_samples"}


def _dataset_rows() -> list[str]:
    lines = [
        "| `name` | source | x per sample | target | samples | `normalize` `default` is |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in catalog.NAMES:
        resolved = catalog.resolve({"name": name})
        if name in catalog.FILES:
            source, x, target, samples = catalog.FILE_CELLS[name]
            cells = {
                "source": source,
                "x": x.format(**resolved),
                "target": target,
                "samples": samples,
            }
        else:
            info = catalog.describe({"name": name})
            cells = {
                "source": "generated" if name in catalog.SYNTHETIC else "scikit-learn",
                "x": f"`{list(info.x_shape)}`",
                "target": info.describe_target(),
                "samples": str(info.n_samples),
            }
            keys = {p.name for p in catalog.DATASET_PARAMS[name]}
            for column, key in SHAPING_PARAMS.items():
                if key in keys:
                    cells[column] += f" (`{key}`)"
        lines.append(
            f"| `{name}` | {cells['source']} | {cells['x']} | {cells['target']} "
            f"| {cells['samples']} | `{resolved['normalize']}` |"
        )
    return lines


# Short names for the loader's limits, for the page's text.
MAX_FILE_MIB = loader.MAX_FILE_BYTES >> 20
MAX_DEPTH = loader.MAX_DEPTH
MAX_CONTAINERS = loader.MAX_CONTAINERS
MAX_LAYERS = loader.MAX_LAYERS
MAX_ID = loader.MAX_ID_LENGTH
INPUT = loader.INPUT_ID


def _intro() -> str:
    return f"""\
# The project file (`*.twintrain.json`)

<!-- Generated by `python -m engine.spec.docs` from the layer registry, the training keys and the
dataset catalog. Do not edit by hand: change the registry and run the command again. -->

One JSON document holds a project: the network (`model`), how to train it (`training`) and,
optionally, where its blocks sit on the canvas (`layout`). The presets in `presets/` are project
files. Plain JSON only: nothing in a file is ever executed, unpickled or imported, and `NaN` or
`Infinity` are refused.

Every key, default and range below is generated from the code the loader validates with, so
this page cannot disagree with it. The same information is in a JSON Schema,
[`twintrain.schema.json`](twintrain.schema.json), for editors (see the end of this page).

`presets/{EXAMPLE_PRESET}.twintrain.json`:

```json
{example_text()}
```

## Rules

- Shapes are per sample (no batch axis) and channels-last: an image is `[H, W, C]`, a sequence
  `[T, F]`. The PyTorch side converts to its own layout internally; the file never uses NCHW.
- A layer's `id` is unique and matches `[A-Za-z_][A-Za-z0-9_]*` (at most {MAX_ID} characters);
  `{INPUT}` is reserved for the model input.
- A layer reads the layer before it in the list (the first layer reads `{INPUT}`) unless it names
  its `inputs`, a list of ids (`"{INPUT}"` included). So a plain stack needs no `inputs`; a graph
  (a residual `Add`, a `Concatenate`) names them.
- `model.output` names the layer whose result is the model output; default: the last layer.
- A parameter left out takes the default listed here, and TwinTrain sets that value explicitly
  in both frameworks (never each framework's own default).
- `layout` and every key starting with `x-` (at the top, in `model`, `model.input`, a layer,
  `training`, `training.dataset` and `training.optimizer`) are kept on load and save and never
  affect training. Any other unknown key is refused (naming the nearest known one when close).
- A file the loader refuses gets one line naming the file, the layer id and the field, and
  nothing on disk is changed.
- Data-file paths are relative to the project file and must stay inside its folder (no absolute
  path, no `..`, no symlink leading out).
- Limits: a file is at most {MAX_FILE_MIB} MiB, objects and lists nest at most {MAX_DEPTH} deep
  ({MAX_CONTAINERS:,} in all), a model has at most {MAX_LAYERS:,} layers.
- Ranges are written as intervals: `[1, 4096]` includes both ends, `(0, 1]` excludes 0.
"""


SCHEMA_NOTES = """\
## The JSON Schema (editors)

[`twintrain.schema.json`](twintrain.schema.json) (JSON Schema draft 2020-12) describes every key
above. In VS Code, add to the workspace's `.vscode/settings.json` (or the user settings, with an
absolute path):

```json
{
  "json.schemas": [
    {"fileMatch": ["*.twintrain.json"], "url": "./docs/twintrain.schema.json"}
  ]
}
```

Other editors with a JSON language server take the same file. Project files carry no `$schema`
key: the loader refuses unknown top-level keys, and the schema says so too.

The schema checks what the loader checks before it builds the graph: the keys, their types,
ranges and choices, and which are required. These checks need the whole graph or a data file, so
only the loader (`twintrain check FILE`, or the app) makes them:

- ids are unique, `model.output` and every `inputs` entry name a layer, and the graph has no
  cycle;
- each layer accepts the shape it receives (a kernel larger than its input, an `Add` of
  different shapes, ...);
- the model's input shape fits the dataset's samples and its output fits the target (the
  classes, or the regression target);
- a data file (`csv`, `npz`) exists inside the project's folder and holds usable data;
- an integer written with a decimal point (`32.0`): JSON Schema counts it as the integer 32, the
  loader asks for `32`.
"""


def markdown() -> str:
    """The reference page of the project file, generated from the registries."""
    lines = [_intro()]
    lines += [
        "## Top-level keys",
        "",
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
        f'| `format` | text | **required** | Always `"{loader.FORMAT}"`. |',
        '| `name` | text | `"untitled"` | The project\'s name (at most '
        f"{MAX_NAME:,} characters). |",
        f'| `description` | text | `""` | One line about it (at most {MAX_NAME:,} characters). |',
        "| `model` | object | **required** | The network (below). |",
        "| `training` | object | **required** | How it trains (below). |",
        "| `layout` | object | none | `{id: [x, y]}` per block on the canvas; never read "
        "for training. |",
        "",
        X_KEYS_NOTE,
        "",
        "## `model`",
        "",
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
        "| `input.shape` | list of integers | **required** | One sample's shape, channels-last: "
        f"1 to {MAX_AXES} integers in `[1, {MAX_DIM}]`. |",
        "| `layers` | list | **required** | The layers in order (at least one, at most "
        f"{loader.MAX_LAYERS:,}). |",
        "| `output` | text | the last layer | Id of the layer whose result is the model output. |",
        "",
        "Every layer is an object with these keys, plus the parameters of its type:",
        "",
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
        "| `id` | text | **required** | Unique; `[A-Za-z_][A-Za-z0-9_]*`, at most "
        f"{loader.MAX_ID_LENGTH} characters, not `{loader.INPUT_ID}`. |",
        "| `type` | text | **required** | One of the layer types below. |",
        "| `inputs` | list of ids | the layer before | The layers (or `input`) it reads; required "
        "for merge layers, which read two or more. |",
        "",
        "## Layer types",
        "",
        "| type | group | inputs | parameters (required ones in bold) |",
        "| --- | --- | --- | --- |",
    ]
    for group in GROUPS:
        for lt in LAYER_TYPES.values():
            if lt.group != group:
                continue
            names = ", ".join(f"**`{p.name}`**" if p.required else f"`{p.name}`" for p in lt.params)
            lines.append(
                f"| [`{lt.name}`](#{lt.name.lower()}) | {group} | {_inputs_text(lt)} "
                f"| {names or '–'} |"
            )
    lines += ["", "`activation` is one of: " + ", ".join(f"`{a}`" for a in ACTIVATIONS) + ".", ""]
    for group in GROUPS:
        members = [lt for lt in LAYER_TYPES.values() if lt.group == group]
        if not members:
            continue
        lines += [f"### {group}", ""]
        for lt in members:
            lines += _layer_section(lt)
    lines += [
        "## `training`",
        "",
        "| key | type | default | allowed | meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `dataset` | object | **required** | see below | The data it trains on. |",
        f'| `optimizer` | object | `{{"name": "{DEFAULT_OPTIMIZER}"}}` | see below '
        "| The optimizer and its settings. |",
    ]
    lines += params_table(TRAINING_PARAMS)[2:]
    lines += ["", X_KEYS_NOTE, "", "### `training.optimizer`", ""]
    lines += [
        f"`name` is one of {', '.join(f'`{o}`' for o in OPTIMIZERS)} (default "
        f"`{DEFAULT_OPTIMIZER}`); each takes these keys, and the values are set the same in both "
        "frameworks.",
        "",
    ]
    for name in OPTIMIZERS:
        lines += [f"#### `{name}`", ""]
        lines += params_table(OPTIMIZER_PARAMS[name])
        lines.append("")
    lines += [
        "### `training.dataset`",
        "",
        f"`name` is required; it is one of {len(catalog.NAMES)} datasets. What each gives the "
        "model per sample, with its parameters at their defaults (the key in brackets changes "
        "it):",
        "",
    ]
    lines += _dataset_rows()
    lines += [
        "",
        "`normalize`: `standard` scales each feature by the training split's mean and deviation "
        "(and a regression target of `diabetes` or `csv` too); `pixels` divides the digits' "
        "pixel values by 16, to [0, 1]; `none` leaves the values as they are. A model whose input "
        "shape does not fit its dataset is refused before training, with both shapes in the "
        "message.",
        "",
        "Every dataset takes these keys:",
        "",
    ]
    lines += params_table(catalog.COMMON)
    lines.append("")
    for name in catalog.NAMES:
        params = catalog.DATASET_PARAMS[name]
        if not params:
            continue
        lines += [f"#### `{name}`", ""]
        lines += params_table(params)
        lines.append("")
    with_no_params = [f"`{n}`" for n in catalog.NAMES if not catalog.DATASET_PARAMS[n]]
    lines += [
        f"{', '.join(with_no_params)} take no other keys.",
        "",
        "A `csv` file is UTF-8 text with a header row; `target` names the label column and every "
        "other column is a numeric feature. An `npz` file holds the arrays `x` (numeric) and `y`; "
        "it is read without pickle. With `task` `auto`, labels that are all whole numbers are "
        "classes (0, 1, 2, ...; text labels are classes too) and others are a regression target. "
        "Missing or non-finite values, a single class, or negative class labels are refused, with "
        "the row and column (or the array and sample) named.",
        "",
        '`mnist1d` is MNIST-1D (Greydanus 2020, "Scaling down deep learning"), generated '
        "offline from the seed: ten hand-drawn 1-D digit templates, each sample padded, "
        "stretched, scaled, shifted, given correlated and white noise, sheared and resampled to "
        "40 points; a signal of shape `[40, 1]` for Conv1D, GRU or LSTM models, 10 classes taking "
        "turns, the same signals for the same seed.",
        "",
        "A `text_csv` file is UTF-8 CSV with a header row; `text` names the column of text and "
        "`label` the column of class names (classes are numbered in sorted order). Each text is "
        "lower-cased and split on anything that is not a letter; the vocabulary is the "
        "`vocab_size` - 2 most frequent words of the training split (ties alphabetical), id 0 "
        "pads and id 1 is a word outside it; each sample is its first `length` ids, padded with "
        "0 at the end (as float32, which an Embedding reads as ids). `normalize` `standard` is "
        "refused for it.",
        "",
        "An `image_folder` holds one sub-folder per class (the sorted names are the classes) with "
        "PNG, JPEG, BMP or GIF files of any size and mode, e.g. `images/cat/1.png`, "
        "`images/dog/a.jpg`. Each image is converted to `rgb` or `grayscale` (transparency "
        "dropped), resized to `size` with bilinear filtering (without `size` all images must "
        "share one size), scaled to [0, 1] and given channels-last `[H, W, C]`. Decoded images "
        "are cached in the user cache folder (in `cache` of `TWINTRAIN_DATA_DIR` where that is "
        "set), keyed by the "
        "files' names, sizes and times and the parameters. An empty class folder, a class with "
        "one image, an unreadable image, mixed sizes without `size`, an image declaring more "
        f"than {IMAGE_MAX_PIXELS:,} pixels and a path or symlink leading out of the project's "
        "folder are refused, with the image named.",
        "",
        SCHEMA_NOTES,
    ]
    return _wrap("\n".join(lines).rstrip("\n") + "\n")


def _wrap(text: str, width: int = 100) -> str:
    """Prose lines longer than ``width`` wrapped; tables, headings and code kept as they are."""
    out, in_code = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            in_code = not in_code
        if in_code or len(line) <= width or line.startswith(("|", "#", "-", "<!--")):
            out.append(line)
        else:
            out.append(textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


# ---- the files ---------------------------------------------------------------------------------


def outputs() -> dict[str, str]:
    """{file name in docs/: its content}."""
    return {MARKDOWN_FILE: markdown(), SCHEMA_FILE: schema_text()}


def stale(folder: Path = DOCS_DIR) -> list[str]:
    """The generated files in ``folder`` that are missing or differ from what the code makes now."""
    out = []
    for name, text in outputs().items():
        path = Path(folder) / name
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            out.append(name)
    return out


def write(folder: Path = DOCS_DIR) -> list[Path]:
    """Write the files that changed; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    changed = set(stale(folder))
    written = []
    for name, text in outputs().items():
        if name in changed:
            loader.write_atomic(folder / name, text)
            written.append(folder / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.spec.docs",
        description=f"Write {MARKDOWN_FILE} and {SCHEMA_FILE} from the layer registry and the "
        "dataset catalog.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is stale"
    )
    parser.add_argument("--out", type=Path, default=DOCS_DIR, help="folder (default: docs/)")
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.out)
        for name in names:
            print(
                f"{args.out / name} is stale: run `python -m engine.spec.docs` and commit it",
                file=sys.stderr,
            )
        return 1 if names else 0
    for path in write(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
