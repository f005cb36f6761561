"""docs/project-file.md and docs/twintrain.schema.json: generated, current, and as strict as the
loader.

The files on disk must equal what ``engine.spec.docs`` makes from the registries now. The schema
must accept every preset and refuse what the loader's structural check (``from_dict``) refuses:
the named cases here, every case of test_bad_input.py, and random mutations of the presets,
where the two must agree both ways. The only differences allowed are the ones the page lists:
checks that need the whole graph (duplicate ids, an output naming no layer) and an integer
written as 32.0, which JSON Schema cannot tell from 32.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_schema_subset import Validator
from test_bad_input import CASES as LOADER_CASES

from engine.data import catalog
from engine.spec import SpecError, from_dict
from engine.spec import docs as generator
from engine.spec.layer_types import LAYER_TYPES
from engine.spec.params import ACTIVATIONS, Param
from engine.spec.training import OPTIMIZER_PARAMS, OPTIMIZERS, TRAINING_PARAMS
from tests.conftest import PRESETS, ROOT

SCHEMA = generator.json_schema()
VALIDATOR = Validator(SCHEMA)
DOCS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in PRESETS}
BASE = DOCS["digits_cnn.twintrain.json"]
# What the loader refuses and the schema cannot see (docs/project-file.md lists them).
GRAPH_ONLY = re.compile(r"duplicate id|names no layer")


def loader_error(doc: Any) -> str | None:
    """The loader's structural verdict: None, or its one-line reason."""
    try:
        from_dict(copy.deepcopy(doc))
    except SpecError as exc:
        return exc.reason
    return None


def schema_errors(doc: Any) -> list[str]:
    return list(VALIDATOR.errors(doc))[:5]


def as_json_sees_it(value: Any) -> Any:
    """The document in JSON Schema's data model, where 32.0 is the integer 32."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [as_json_sees_it(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json_sees_it(v) for k, v in value.items()}
    return value


def assert_agree(doc: Any) -> None:
    """Schema and loader agree on a document (up to the graph-only checks)."""
    loader = loader_error(as_json_sees_it(doc))
    errors = schema_errors(doc)
    if errors:
        assert loader is not None, f"the schema refuses what the loader accepts: {errors}"
    else:
        assert loader is None or GRAPH_ONLY.search(loader), (
            f"the loader refuses ({loader}) what the schema accepts"
        )


def mutate(fn) -> dict:
    doc = copy.deepcopy(BASE)
    fn(doc)
    return doc


def layer(doc: dict, lid: str) -> dict:
    return next(item for item in doc["model"]["layers"] if item["id"] == lid)


# ---- the files are what the code makes now -----------------------------------------------------


def test_generated_files_are_current():
    stale = generator.stale()
    assert not stale, f"{stale} stale: run `python -m engine.spec.docs` and commit the result"
    on_disk = json.loads((ROOT / "docs" / generator.SCHEMA_FILE).read_text(encoding="utf-8"))
    assert on_disk == SCHEMA


def test_check_mode_finds_stale_files(tmp_path, capsys):
    assert generator.main(["--check", "--out", str(tmp_path)]) == 1  # missing
    assert generator.main(["--out", str(tmp_path)]) == 0
    assert generator.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / generator.MARKDOWN_FILE).write_text("# edited by hand\n", encoding="utf-8")
    assert generator.main(["--check", "--out", str(tmp_path)]) == 1
    assert generator.MARKDOWN_FILE in capsys.readouterr().err
    assert generator.main(["--out", str(tmp_path)]) == 0  # rewrites only what changed
    assert generator.stale(tmp_path) == []


def test_schema_is_draft_2020_12_with_checked_keywords_only():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Validator(SCHEMA)  # raises on any keyword the validator below does not check
    text = generator.schema_text()
    assert "://" not in text.replace(SCHEMA["$schema"], "")  # nothing outside the repository


def test_page_names_every_key_of_the_registries():
    page = generator.markdown()
    for lt in LAYER_TYPES.values():
        assert f"#### {lt.name}" in page
        for p in lt.params:
            assert f"| `{p.name}` |" in page
    for name in catalog.NAMES:
        assert f"| `{name}` |" in page
    for name in OPTIMIZERS:
        assert f"#### `{name}`" in page
    for p in TRAINING_PARAMS:
        assert f"| `{p.name}` |" in page
    for a in ACTIVATIONS:
        assert f"`{a}`" in page


def test_the_pages_example_is_a_valid_preset():
    text = generator.example_text()
    assert f"```json\n{text}\n```" in generator.markdown()
    doc = json.loads(text)
    assert loader_error(doc) is None and schema_errors(doc) == []
    assert doc == DOCS[f"{generator.EXAMPLE_PRESET}.twintrain.json"]


@pytest.mark.parametrize(
    "column,key", generator.SHAPING_PARAMS.items(), ids=list(generator.SHAPING_PARAMS)
)
def test_dataset_table_says_which_key_changes_what(column, key):
    """The table marks `length`, `n_classes` and `n_samples` as changing x, target and size."""
    field = {"x": "x_shape", "target": "n_classes", "samples": "n_samples"}[column]
    with_key = [n for n in catalog.NAMES if any(p.name == key for p in catalog.DATASET_PARAMS[n])]
    assert with_key
    for name in with_key:
        p = next(p for p in catalog.DATASET_PARAMS[name] if p.name == key)
        changed = {"name": name, key: p.default + 1}
        assert getattr(catalog.describe(changed), field) != getattr(
            catalog.describe({"name": name}), field
        ), (name, key)


# ---- presets and named cases -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCS))
def test_every_preset_validates(name):
    assert schema_errors(DOCS[name]) == []


ACCEPTED = {
    "x-keys everywhere": mutate(
        lambda d: (
            d.update({"x-editor": {"any": [1, None]}}),
            d["model"].update({"x-note": 1}),
            d["model"]["input"].update({"x-note": "n"}),
            layer(d, "fc1").update({"x-color": "red"}),
            d["training"].update({"x-k": 1}),
            d["training"]["dataset"].update({"x-k": 1}),
            d["training"]["optimizer"].update({"x-k": 1}),
        )
    ),
    "optimizer without a name is adam": mutate(
        lambda d: d["training"].update(optimizer={"beta_1": 0.8})
    ),
    "no optimizer": mutate(lambda d: d["training"].pop("optimizer")),
    "null layout and output": mutate(
        lambda d: (d.update(layout=None), d["model"].update(output=None))
    ),
    "pool strides null": mutate(lambda d: layer(d, "pool1").update(strides=None)),
    "kernel as a pair": mutate(lambda d: layer(d, "conv1").update(kernel_size=[3, 1])),
    "float given an integer": mutate(lambda d: d["training"]["optimizer"].update(learning_rate=1)),
    "explicit inputs": mutate(lambda d: layer(d, "pool1").update(inputs=["conv1"])),
    "no name or description": mutate(lambda d: (d.pop("name"), d.pop("description"))),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_by_both(name):
    doc = ACCEPTED[name]
    assert loader_error(doc) is None
    assert schema_errors(doc) == []


def _set(lid: str, **values):
    return lambda d: layer(d, lid).update(values)


def _train(**values):
    return lambda d: d["training"].update(values)


def _dataset(**values):
    return lambda d: d["training"]["dataset"].update(values)


def _optimizer(**values):
    return lambda d: d["training"]["optimizer"].update(values)


REFUSED = {
    # unknown names
    "unknown layer type": _set("fc1", type="Transformer"),
    "unknown layer parameter": _set("fc1", unit=32),
    "unknown dataset kind": _dataset(name="mnist"),
    "unknown optimizer": _optimizer(name="lbfgs"),
    "unknown top-level key": lambda d: d.update({"$schema": "./docs/twintrain.schema.json"}),
    "unknown model key": lambda d: d["model"].update(inputs=[1]),
    "unknown training key": _train(epoch=3),
    "another dataset's key": _dataset(n_classes=4),
    "another optimizer's key": _optimizer(rho=0.9),
    "adam's default with sgd's key": lambda d: d["training"].update(optimizer={"momentum": 0.5}),
    "unknown format": lambda d: d.update(format="twintrain/2"),
    # missing required keys
    "missing units": lambda d: layer(d, "fc1").pop("units"),
    "missing layer type": lambda d: layer(d, "fc1").pop("type"),
    "missing format": lambda d: d.pop("format"),
    "missing model": lambda d: d.pop("model"),
    "missing training": lambda d: d.pop("training"),
    "missing dataset": lambda d: d["training"].pop("dataset"),
    "missing dataset name": lambda d: d["training"]["dataset"].pop("name"),
    "missing input shape": lambda d: d["model"]["input"].pop("shape"),
    "missing csv path": _dataset(name="csv", target="label"),
    "merge layer without inputs": lambda d: d["model"]["layers"].append({"id": "s", "type": "Add"}),
    # out of range
    "units 0": _set("fc1", units=0),
    "units too large": _set("fc1", units=(1 << 20) + 1),
    "dropout rate 1": lambda d: d["model"]["layers"].insert(
        4, {"id": "d", "type": "Dropout", "rate": 1.0}
    ),
    "learning rate 0": _optimizer(learning_rate=0),
    "validation split 0.95": _dataset(validation_split=0.95),
    "epochs 0": _train(epochs=0),
    "negative seed": _train(seed=-1),
    "kernel pair with a 0": _set("conv1", kernel_size=[3, 0]),
    "kernel triple": _set("conv1", kernel_size=[3, 3, 3]),
    "shape entry 0": lambda d: d["model"]["input"].update(shape=[8, 0, 1]),
    "nine axes": lambda d: d["model"]["input"].update(shape=[1] * 9),
    "two -1 in a Reshape": lambda d: d["model"]["layers"].insert(
        3, {"id": "r", "type": "Reshape", "shape": [-1, -1]}
    ),
    "-1 in the input shape": lambda d: d["model"]["input"].update(shape=[-1, 8, 1]),
    "Add of one input": lambda d: d["model"]["layers"].append(
        {"id": "s", "type": "Add", "inputs": ["out"]}
    ),
    "Dense of two inputs": _set("fc1", inputs=["flat", "pool1"]),
    "empty inputs": _set("fc1", inputs=[]),
    # wrong types
    "units as text": _set("fc1", units="32"),
    "units as true": _set("fc1", units=True),
    "units as 2.5": _set("fc1", units=2.5),
    "use_bias as 1": _set("fc1", use_bias=1),
    "activation as 3": _set("fc1", activation=3),
    "bad activation": _set("fc1", activation="rleu"),
    "bad padding": _set("conv1", padding="full"),
    "shape as text": lambda d: d["model"]["input"].update(shape="8,8,1"),
    "layers empty": lambda d: d["model"].update(layers=[]),
    "layer not an object": lambda d: d["model"]["layers"].append("Dense"),
    "name as a number": lambda d: d.update(name=3),
    "layout as a list": lambda d: d.update(layout=[]),
    "optimizer as text": _train(optimizer="adam"),
    "dataset as text": _train(dataset="digits"),
    "blank csv path": _dataset(name="csv", path="   ", target="label"),
    # ids
    "id with a dash": _set("fc1", id="fc-1"),
    "id starting with a digit": _set("fc1", id="1fc"),
    "id 'input'": _set("fc1", id="input"),
    "id with a newline at the end": _set("fc1", id="fc1\n"),
    "output 'input'": lambda d: d["model"].update(output="input"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_by_both(name):
    doc = mutate(REFUSED[name])
    assert loader_error(doc) is not None, "the case is not bad for the loader"
    assert schema_errors(doc), "the schema accepts it"


def _as_document(content: Any) -> Any:
    """A case of test_bad_input.py as a parsed document, or None where it is not JSON at all
    (the parser refuses those before any schema applies)."""
    if not isinstance(content, str):
        return content
    try:
        return json.loads(content)
    except ValueError:
        return None


LOADER_DOCS = {c[0]: _as_document(c[1]) for c in LOADER_CASES if _as_document(c[1]) is not None}


@pytest.mark.parametrize("name", sorted(LOADER_DOCS))
def test_the_loaders_bad_cases(name):
    """Every bad file of test_bad_input.py: refused by the schema where the loader's structural
    check refuses it; the graph's own errors (dangling, cycle, shapes, dataset fit) are for
    `twintrain check`, and the schema must not refuse those files."""
    content = LOADER_DOCS[name]
    assert_agree(content)
    reason = loader_error(as_json_sees_it(content))
    if reason is not None and not GRAPH_ONLY.search(reason):
        assert schema_errors(content), f"the loader refuses it ({reason}); the schema accepts it"


def test_integers_written_with_a_point_are_the_one_difference():
    doc = mutate(_set("fc1", units=32.0))
    assert "without a decimal point" in loader_error(doc)
    assert schema_errors(doc) == []  # 32.0 is the integer 32 to JSON Schema; the page says so
    assert "32.0" in generator.markdown()


@pytest.mark.parametrize(
    "where,limit",
    [
        ("name", generator.MAX_NAME),
        ("description", generator.MAX_NAME),
        ("csv path", generator.MAX_TEXT),
        ("csv target", generator.MAX_TEXT),
        ("id", generator.MAX_ID),
        ("axes", generator.MAX_AXES),
        ("layers", generator.MAX_LAYERS),
    ],
)
def test_limits_agree_at_both_edges(where, limit):
    """The loader's literal limits: the schema accepts the limit and refuses one more, as the
    loader does (a change on either side fails here)."""

    def doc(n: int) -> dict:
        d = copy.deepcopy(BASE)
        csv = {"name": "csv", "path": "data.csv", "target": "label"}
        if where in ("name", "description"):
            d[where] = "x" * n
        elif where == "csv path":
            d["training"]["dataset"] = {**csv, "path": "p" * n}
        elif where == "csv target":
            d["training"]["dataset"] = {**csv, "target": "t" * n}
        elif where == "id":
            layer(d, "fc1")["id"] = "f" * n
            layer(d, "out")["inputs"] = ["f" * n]
        elif where == "axes":
            d["model"]["input"]["shape"] = [1] * n
        else:
            d["model"]["layers"] = [{"id": f"l{i}", "type": "Flatten"} for i in range(n)]
        return d

    if where == "layers":  # 10,000 layers take this validator seconds: check the bound itself
        assert SCHEMA["$defs"]["model"]["properties"]["layers"]["maxItems"] == limit
        assert loader_error(doc(limit)) is None and loader_error(doc(limit + 1)) is not None
        return
    assert loader_error(doc(limit)) is None
    assert schema_errors(doc(limit)) == []
    assert loader_error(doc(limit + 1)) is not None
    assert schema_errors(doc(limit + 1))


# ---- every parameter of every registry, at its edges -------------------------------------------

LAYER_PARAMS = [p for lt in LAYER_TYPES.values() for p in lt.params]
DATASET_PARAMS = [p for ps in catalog.DATASET_PARAMS.values() for p in ps] + list(catalog.COMMON)
OPTIMIZER_PARAMS_ALL = [p for ps in OPTIMIZER_PARAMS.values() for p in ps]
EVERY_PARAM = LAYER_PARAMS + DATASET_PARAMS + OPTIMIZER_PARAMS_ALL + list(TRAINING_PARAMS)


def _edges(p: Param) -> list[Any]:
    """Values at and around a parameter's bounds, and its choices with a near miss."""
    out: list[Any] = []
    for bound in (p.minimum, p.maximum):
        if bound is not None:
            out += [bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5]
    if p.minimum is not None and p.maximum is not None:
        out.append((p.minimum + p.maximum) / 2)
    out += list(p.choices) + [c.upper() for c in p.choices[:1]]
    if p.kind == "int_or_pair" and p.maximum is not None:
        out += [[1, int(p.maximum)], [int(p.maximum) + 1, 1]]
    return out


EDGES = [v for p in EVERY_PARAM for v in _edges(p)]
WRONG = ["x", "", "  ", True, None, [], {}, 2.5, [1, 1, 1], [1], -1, 0, 10**9]


def _site_doc(site: str) -> tuple[dict, dict]:
    """A minimal document for one site of the registries, and the object its keys go in. The
    loader's structural check does not infer shapes, so any one-layer model will do."""
    kind, _, name = site.partition(" ")
    lt = LAYER_TYPES.get(name) if kind == "layer" else LAYER_TYPES["Dense"]
    body: dict = {"id": "l", "type": lt.name, **copy.deepcopy(lt.suggested)}
    if lt.min_inputs > 1:
        body["inputs"] = ["input"] * lt.min_inputs
    dataset: dict = {"name": name if kind == "dataset" else "xor"}
    dataset.update(
        {p.name: "data.csv" for p in catalog.DATASET_PARAMS[dataset["name"]] if p.required}
    )
    # "optimizer default": no name at all, which the loader reads as adam
    optimizer = (
        {} if site == "optimizer default" else {"name": name if kind == "optimizer" else "adam"}
    )
    doc = {
        "format": "twintrain/1",
        "model": {"input": {"shape": [4]}, "layers": [body]},
        "training": {"dataset": dataset, "optimizer": optimizer},
    }
    where = {"layer": body, "dataset": dataset, "optimizer": optimizer, "training": doc["training"]}
    return doc, where[kind]


SITES = {
    **{f"layer {n}": lt.params for n, lt in LAYER_TYPES.items()},
    **{f"dataset {n}": catalog.COMMON + catalog.DATASET_PARAMS[n] for n in catalog.NAMES},
    **{f"optimizer {n}": OPTIMIZER_PARAMS[n] for n in OPTIMIZERS},
    "optimizer default": OPTIMIZER_PARAMS[generator.DEFAULT_OPTIMIZER],
    "training": TRAINING_PARAMS,
}
OTHER_KEYS = sorted({p.name for p in EVERY_PARAM} | {"zzz", "x-note"})


@pytest.mark.parametrize("site", sorted(SITES))
def test_every_parameter_at_its_edges(site):
    """Each parameter of each layer type, dataset, optimizer and the training section: its
    bounds and one past them, its choices and a near miss, values of the wrong type, left out,
    and every other site's keys: the schema and the loader agree on each."""
    doc, _ = _site_doc(site)
    assert loader_error(doc) is None and schema_errors(doc) == [], site
    params = SITES[site]
    for p in params:
        for value in [*_edges(p), *WRONG]:
            changed, target = _site_doc(site)
            target[p.name] = value
            assert_agree(changed)
        changed, target = _site_doc(site)
        target.pop(p.name, None)
        assert_agree(changed)
    for key in OTHER_KEYS:
        changed, target = _site_doc(site)
        if key not in target:
            target[key] = _valid_value(key)
            assert_agree(changed)
    if site.startswith("layer "):
        most = LAYER_TYPES[site.partition(" ")[2]].max_inputs
        for inputs in [None, [], [1], "input", *(["input"] * n for n in (1, 2, most, most + 1))]:
            changed, target = _site_doc(site)
            target.pop("inputs", None)
            if inputs is not None:
                target["inputs"] = inputs
            assert_agree(changed)
        for key in ("id", "type"):
            changed, target = _site_doc(site)
            del target[key]
            assert_agree(changed)


def _valid_value(key: str) -> Any:
    """A value some site accepts for ``key``, so that only the key's place is in question."""
    for p in EVERY_PARAM:
        if p.name == key:
            if not p.required:
                return p.default
            if p.kind == "choice":
                return p.choices[0]
            return {"str": "data.csv", "shape": [4]}.get(p.kind, 1)
    return 1


# ---- random documents: the two agree both ways -------------------------------------------------


NAMES = [
    *LAYER_TYPES,
    *catalog.NAMES,
    *OPTIMIZERS,
    *ACTIVATIONS,
    "input",
    "fc1",
    "out",
    "twintrain/1",
    "",
    " ",
    "x-",
    "Conv2d",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
values = (
    st.sampled_from(EDGES)
    | st.sampled_from(NAMES)
    | st.sampled_from([None, True, False, [], {}, [8, 8, 1], [-1], [2, 2], ["fc1"], ["input"]])
    | json_values
)


def _keys(params: list[Param], *fixed: str) -> list[str]:
    return sorted({p.name for p in params} | {*fixed, "x-note", "zzz"})


SECTIONS = {
    "top": ["format", "name", "description", "model", "training", "layout", "$schema", "x-k"],
    "model": ["input", "layers", "output", "x-k", "zzz"],
    "input": ["shape", "x-k", "zzz"],
    "layer": _keys(LAYER_PARAMS, "id", "type", "inputs"),
    "training": _keys(list(TRAINING_PARAMS), "dataset", "optimizer"),
    "dataset": _keys(DATASET_PARAMS, "name"),
    "optimizer": _keys(OPTIMIZER_PARAMS_ALL, "name"),
}


def _section(doc: dict, which: str, index: int) -> Any:
    """The object a mutation edits (or None when the document no longer has it)."""
    try:
        if which == "top":
            return doc
        if which == "model":
            return doc["model"]
        if which == "input":
            return doc["model"]["input"]
        if which == "layer":
            layers = doc["model"]["layers"]
            return layers[index % len(layers)]
        if which == "training":
            return doc["training"]
        return doc["training"][which]
    except (KeyError, TypeError, IndexError, ZeroDivisionError):
        return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(sorted(DOCS)), data=st.data())
def test_schema_and_loader_agree_on_mutated_presets(base, data):
    doc = copy.deepcopy(DOCS[base])
    for _ in range(data.draw(st.integers(1, 3))):
        which = data.draw(st.sampled_from(sorted(SECTIONS)))
        target = _section(doc, which, data.draw(st.integers(0, 20)))
        if not isinstance(target, dict):
            continue
        key = data.draw(st.sampled_from(SECTIONS[which] + sorted(target)))
        if data.draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = data.draw(values)
    assert_agree(doc)
