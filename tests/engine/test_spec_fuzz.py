"""Property-based tests: random and mutated specs give clean SpecErrors, never a crash."""

import contextlib
import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.spec import LAYER_TYPES, SpecError, from_dict, infer
from engine.spec.project import parse_text
from tests.conftest import PRESETS
from tests.long_runs import examples

DOCS = [json.loads(p.read_text()) for p in PRESETS]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
interesting = st.sampled_from(
    [
        0,
        -1,
        1,
        2,
        3,
        10**9,
        2.5,
        "same",
        "valid",
        "relu",
        None,
        True,
        [],
        [1],
        [2, 2],
        [0, 1],
        ["input"],
        {},
        "x",
        -3,
    ]
)


def run_all(doc):
    """Load and infer; return normally or with a SpecError, nothing else."""
    try:
        project = from_dict(doc)
        graph = infer(project, check_dataset=True)
    except SpecError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for info in graph.layers.values():
        assert info.error is None or isinstance(info.error, SpecError)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=json_values)
def test_random_documents(doc):
    run_all(doc)


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(DOCS),
    data=st.data(),
)
def test_mutated_presets(base, data):
    doc = copy.deepcopy(base)
    layers = doc["model"]["layers"]
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(
            st.sampled_from(["param", "type", "inputs", "drop", "dup", "shape", "training", "swap"])
        )
        i = data.draw(st.integers(0, len(layers) - 1)) if layers else 0
        if not layers:
            break
        if action == "param":
            key = data.draw(
                st.sampled_from(
                    [
                        "units",
                        "filters",
                        "kernel_size",
                        "strides",
                        "padding",
                        "rate",
                        "pool_size",
                        "axis",
                        "shape",
                        "activation",
                        "return_sequences",
                        "zzz",
                    ]
                )
            )
            layers[i][key] = data.draw(interesting | json_values)
        elif action == "type":
            layers[i]["type"] = data.draw(
                st.sampled_from(sorted(LAYER_TYPES)) | st.text(max_size=6)
            )
        elif action == "inputs":
            ids = [item.get("id") for item in layers] + ["input", "nope"]
            layers[i]["inputs"] = data.draw(st.lists(st.sampled_from(ids), max_size=3))
        elif action == "drop":
            layers.pop(i)
        elif action == "dup":
            layers.insert(i, copy.deepcopy(layers[i]))
        elif action == "shape":
            doc["model"]["input"]["shape"] = data.draw(
                st.lists(interesting | st.integers(-2, 30), max_size=4)
            )
        elif action == "training":
            key = data.draw(
                st.sampled_from(
                    ["loss", "batch_size", "epochs", "seed", "target", "optimizer", "dataset"]
                )
            )
            doc["training"][key] = data.draw(interesting | json_values)
        elif action == "swap" and len(layers) > 1:
            j = data.draw(st.integers(0, len(layers) - 1))
            layers[i], layers[j] = layers[j], layers[i]
    run_all(doc)


@settings(max_examples=examples(200), deadline=None)
@given(text=st.text(max_size=200))
def test_random_text(text):
    with contextlib.suppress(SpecError):
        from_dict(parse_text(text))
