"""Shapes, parameter counts and MACs for every layer type, against hand-worked numbers."""

import pytest

from engine.spec import LAYER_TYPES, from_dict, infer


def project(input_shape, layers, output=None, dataset=None):
    model = {"input": {"shape": input_shape}, "layers": layers}
    if output:
        model["output"] = output
    return from_dict(
        {
            "format": "twintrain/1",
            "model": model,
            "training": {"dataset": dataset or {"name": "xor"}},
        }
    )


def one(input_shape, layer):
    graph = infer(project(input_shape, [{"id": "l", **layer}]), check_dataset=False)
    info = graph.layers["l"]
    assert info.error is None, info.error
    return info


# (input shape, layer, output shape, params (spec = Keras), torch params, MACs per sample)
CASES = [
    ([4], {"type": "Dense", "units": 3}, (3,), 15, 15, 12),
    ([4], {"type": "Dense", "units": 3, "use_bias": False}, (3,), 12, 12, 12),
    ([5, 4], {"type": "Dense", "units": 2}, (5, 2), 10, 10, 40),
    ([10, 3], {"type": "Conv1D", "filters": 4, "kernel_size": 3}, (8, 4), 40, 40, 8 * 3 * 3 * 4),
    (
        [10, 3],
        {"type": "Conv1D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        (5, 4),
        40,
        40,
        5 * 36,
    ),
    (
        [8, 8, 1],
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same"},
        (8, 8, 8),
        80,
        80,
        64 * 9 * 8,
    ),
    (
        [9, 7, 2],
        {"type": "Conv2D", "filters": 3, "kernel_size": [3, 2], "strides": [2, 1]},
        (4, 6, 3),
        39,
        39,
        24 * 6 * 2 * 3,
    ),
    (
        [9, 7, 2],
        {"type": "Conv2D", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
        (5, 4, 3),
        57,
        57,
        20 * 54,
    ),
    ([8, 8, 4], {"type": "MaxPool2D"}, (4, 4, 4), 0, 0, 0),
    ([7, 7, 4], {"type": "AvgPool2D", "pool_size": 3, "strides": 2}, (3, 3, 4), 0, 0, 0),
    ([7, 7, 4], {"type": "MaxPool2D", "pool_size": 2, "padding": "same"}, (4, 4, 4), 0, 0, 0),
    ([9, 4], {"type": "MaxPool1D"}, (4, 4), 0, 0, 0),
    ([9, 4], {"type": "AvgPool1D", "pool_size": 3, "strides": 1}, (7, 4), 0, 0, 0),
    ([6, 5, 4], {"type": "GlobalAvgPool2D"}, (4,), 0, 0, 0),
    ([6, 4], {"type": "GlobalAvgPool1D"}, (4,), 0, 0, 0),
    ([6, 5, 4], {"type": "Flatten"}, (120,), 0, 0, 0),
    ([6, 5, 4], {"type": "Reshape", "shape": [30, 4]}, (30, 4), 0, 0, 0),
    ([6, 5, 4], {"type": "Reshape", "shape": [-1, 2]}, (60, 2), 0, 0, 0),
    ([4], {"type": "Dropout", "rate": 0.5}, (4,), 0, 0, 0),
    ([5, 3], {"type": "BatchNorm"}, (5, 3), 12, 6, 15),
    ([5, 3], {"type": "LayerNorm"}, (5, 3), 6, 6, 15),
    ([4], {"type": "Activation", "activation": "gelu"}, (4,), 0, 0, 0),
    ([7], {"type": "Embedding", "input_dim": 10, "output_dim": 3}, (7, 3), 30, 30, 0),
    # LSTM: 4 gates * (F*u + u*u + u) in Keras; PyTorch keeps a second bias of 4u
    (
        [20, 1],
        {"type": "LSTM", "units": 16},
        (16,),
        4 * (16 + 256 + 16),
        4 * (16 + 256 + 32),
        20 * 4 * (16 + 256),
    ),
    (
        [20, 3],
        {"type": "LSTM", "units": 4, "return_sequences": True},
        (20, 4),
        4 * (12 + 16 + 4),
        4 * (12 + 16 + 8),
        20 * 4 * 28,
    ),
    # GRU (reset_after): both keep two bias vectors: 3 * (F*u + u*u + 2u)
    (
        [20, 1],
        {"type": "GRU", "units": 32},
        (32,),
        3 * (32 + 1024 + 64),
        3 * (32 + 1024 + 64),
        20 * 3 * (32 + 1024),
    ),
    (
        [5, 2],
        {"type": "SimpleRNN", "units": 3, "return_sequences": True},
        (5, 3),
        6 + 9 + 3,
        6 + 9 + 6,
        5 * 15,
    ),
]


@pytest.mark.parametrize("shape,layer,out,params,torch_params,macs", CASES, ids=lambda v: str(v))
def test_layer_shape_params_macs(shape, layer, out, params, torch_params, macs):
    info = one(shape, layer)
    assert info.output_shape == out
    assert info.params == params
    assert info.torch_params == torch_params
    assert info.macs == macs


def test_every_layer_type_is_covered_by_a_hand_worked_case():
    covered = {layer["type"] for _, layer, *_ in CASES} | {"Add", "Concatenate"}
    assert covered == set(LAYER_TYPES)


def test_differing_counts_say_why():
    info = one([20, 1], {"type": "LSTM", "units": 16})
    assert "two bias vectors" in info.param_note
    info = one([5, 3], {"type": "BatchNorm"})
    assert "buffers" in info.param_note
    assert one([4], {"type": "Dense", "units": 3}).param_note is None


def test_add_and_concatenate_graph():
    p = project(
        [6],
        [
            {"id": "a", "type": "Dense", "units": 4},
            {"id": "b", "type": "Dense", "units": 4, "inputs": ["input"]},
            {"id": "s", "type": "Add", "inputs": ["a", "b"]},
            {"id": "c", "type": "Concatenate", "inputs": ["s", "a", "input"]},
            {"id": "out", "type": "Dense", "units": 2},
        ],
    )
    graph = infer(p, check_dataset=False)
    assert graph.errors == []
    assert graph.layers["s"].output_shape == (4,)
    assert graph.layers["c"].output_shape == (14,)
    assert graph.layers["c"].input_shapes == [(4,), (4,), (6,)]
    assert graph.params == 28 + 28 + 30
    assert graph.order.index("s") > graph.order.index("b")


def test_concatenate_on_another_axis():
    p = project(
        [5, 3],
        [
            {"id": "a", "type": "Dense", "units": 3},
            {"id": "c", "type": "Concatenate", "axis": 0, "inputs": ["a", "input"]},
        ],
    )
    assert infer(p, check_dataset=False).layers["c"].output_shape == (10, 3)


def test_explicit_inputs_may_be_listed_out_of_order():
    p = project(
        [3],
        [
            {"id": "out", "type": "Dense", "units": 2, "inputs": ["h"]},
            {"id": "h", "type": "Dense", "units": 5, "inputs": ["input"]},
        ],
        output="out",
    )
    graph = infer(p, check_dataset=False)
    assert graph.errors == []
    assert graph.order == ["h", "out"]
    assert graph.output_shape == (2,)


def test_cnn_preset_totals():
    from engine.presets import load_project_arg

    graph = infer(load_project_arg("digits_cnn"))
    assert [graph.layers[i].output_shape for i in graph.order] == [
        (8, 8, 8),
        (4, 4, 8),
        (4, 4, 16),
        (256,),
        (32,),
        (10,),
    ]
    assert graph.params == 80 + (9 * 8 * 16 + 16) + (256 * 32 + 32) + 330


def test_wrong_number_of_inputs_is_a_layer_error_not_a_crash():
    p = project(
        [4], [{"id": "a", "type": "Dense", "units": 2}, {"id": "b", "type": "Dense", "units": 2}]
    )
    p.layers[1].inputs = []  # what an editor can produce while the user rewires
    p.layers.append(type(p.layers[0])("s", "Add", {}, ["b"]))
    graph = infer(p, check_dataset=False)
    assert (
        graph.layers["b"].error.field == "inputs"
        and "at least 1 input" in graph.layers["b"].error.reason
    )
    assert "Add needs at least 2 inputs, got 1" in graph.layers["s"].error.reason
