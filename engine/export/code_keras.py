"""``model_keras.py``: the project as a plain Keras 3 script (a functional model and ``fit``).

Keras' own conventions are the spec's (channels-last, 'same' padding, momentum), so each
layer maps to one Keras layer with the project's parameters written out.
"""

from __future__ import annotations

from engine.backends.plan import Node
from engine.export import code_data
from engine.export.code_common import (
    INDENT,
    Namer,
    Settings,
    call,
    docstring,
    literal,
    script_header,
    shape_text,
    size,
)
from engine.spec.params import pair
from engine.spec.project import INPUT_ID

ACTIVATIONS = {
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "gelu": "gelu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
    "softplus": "softplus",
    "swish": "silu",
}
LOSSES = {
    "cross_entropy": "keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
    "binary_cross_entropy": "keras.losses.BinaryCrossentropy(from_logits=True)",
    "mse": "keras.losses.MeanSquaredError()",
    "mae": "keras.losses.MeanAbsoluteError()",
}
METRICS = {
    "cross_entropy": '["accuracy"]',
    "binary_cross_entropy": "[keras.metrics.BinaryAccuracy(threshold=0.0)]",  # logits: 0 is p = 0.5
}


def _layer(node: Node) -> tuple[str, list[str]]:
    """(Keras layer class, constructor arguments) for one node, its name last."""
    p, kind = node.params, node.type
    args: list[str] = []

    def act() -> None:
        if p.get("activation", "none") != "none":
            args.append(f"activation={literal(ACTIVATIONS[p['activation']])}")

    if kind == "Dense":
        args.append(str(p["units"]))
        act()
        if not p["use_bias"]:
            args.append("use_bias=False")
    elif kind in ("Conv1D", "Conv2D"):
        rank = 1 if kind == "Conv1D" else 2
        k = (p["kernel_size"],) if rank == 1 else pair(p["kernel_size"])
        st = (p["strides"],) if rank == 1 else pair(p["strides"])
        args += [str(p["filters"]), size(k)]
        if any(v != 1 for v in st):
            args.append(f"strides={size(st)}")
        if p["padding"] != "valid":
            args.append(f"padding={literal(p['padding'])}")
        act()
        if not p["use_bias"]:
            args.append("use_bias=False")
    elif kind in ("MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D"):
        rank = 1 if kind.endswith("1D") else 2
        k = (p["pool_size"],) if rank == 1 else pair(p["pool_size"])
        st = (p["strides"],) if rank == 1 else pair(p["strides"])
        args.append(size(k))
        if tuple(st) != tuple(k):
            args.append(f"strides={size(st)}")
        if p["padding"] != "valid":
            args.append(f"padding={literal(p['padding'])}")
    elif kind == "Reshape":
        args.append(literal(tuple(node.output_shape)))
    elif kind == "Dropout":
        args.append(literal(float(p["rate"])))
    elif kind == "BatchNorm":
        args += [
            f"momentum={literal(float(p['momentum']))}",
            f"epsilon={literal(float(p['epsilon']))}",
        ]
    elif kind == "LayerNorm":
        args.append(f"epsilon={literal(float(p['epsilon']))}")
    elif kind == "Activation":
        args.append(literal(ACTIVATIONS.get(p["activation"], "linear")))
    elif kind == "Embedding":
        args += [str(p["input_dim"]), str(p["output_dim"])]
    elif kind in ("LSTM", "GRU", "SimpleRNN"):
        args.append(str(p["units"]))
        if p["return_sequences"]:
            args.append("return_sequences=True")
    elif kind == "Concatenate":
        axis = p["axis"] if p["axis"] < 0 else p["axis"] + 1  # Keras counts the batch axis
        args.append(f"axis={axis}")
    cls = {
        "Conv1D": "Conv1D",
        "Conv2D": "Conv2D",
        "MaxPool1D": "MaxPooling1D",
        "MaxPool2D": "MaxPooling2D",
        "AvgPool1D": "AveragePooling1D",
        "AvgPool2D": "AveragePooling2D",
        "GlobalAvgPool1D": "GlobalAveragePooling1D",
        "GlobalAvgPool2D": "GlobalAveragePooling2D",
        "BatchNorm": "BatchNormalization",
        "LayerNorm": "LayerNormalization",
    }.get(kind, kind)
    args.append(f"name={literal(node.id)}")
    return f"layers.{cls}", args


def _model(s: Settings) -> list[str]:
    plan = s.plan
    names = Namer()
    var = {INPUT_ID: "inputs"}
    body = [f'{INDENT}inputs = keras.Input(shape={literal(tuple(plan.input_shape))}, name="input")']
    for node in plan.nodes:
        out = "x" if plan.is_chain else names(node.id)
        cls, args = _layer(node)
        ins = [var[r] for r in node.inputs]
        tail = f"([{', '.join(ins)}])" if node.type in ("Add", "Concatenate") else f"({ins[0]})"
        body.extend(call(INDENT, f"{out} = {cls}", args, tail))
        var[node.id] = out
    body.extend(
        call(
            INDENT, "return keras.Model", ["inputs", var[plan.output_id], f"name={literal(s.name)}"]
        )
    )
    doc = (
        f"The {s.name} network: input {shape_text(plan.input_shape)}, "
        f"output {shape_text(plan.output_shape)}."
    )
    return ["def build_model():", *docstring(INDENT, doc), *body]


def optimizer(spec: dict) -> tuple[str, list[str]]:
    """(constructor, arguments) for Keras' stock optimizer, every hyper-parameter explicit."""
    name, f = spec["name"], (lambda key: literal(float(spec[key])))
    lr = f"learning_rate={f('learning_rate')}"
    if name == "sgd":
        return "keras.optimizers.SGD", [
            lr,
            f"momentum={f('momentum')}",
            f"nesterov={spec['nesterov']}",
        ]
    if name == "adam":
        return "keras.optimizers.Adam", [
            lr,
            f"beta_1={f('beta_1')}",
            f"beta_2={f('beta_2')}",
            f"epsilon={f('epsilon')}",
        ]
    if name == "adamw":
        return "keras.optimizers.AdamW", [
            lr,
            f"weight_decay={f('weight_decay')}",
            f"beta_1={f('beta_1')}",
            f"beta_2={f('beta_2')}",
            f"epsilon={f('epsilon')}",
        ]
    if name == "rmsprop":
        return "keras.optimizers.RMSprop", [
            lr,
            f"rho={f('rho')}",
            f"momentum={f('momentum')}",
            f"epsilon={f('epsilon')}",
        ]
    raise ValueError(f"no Keras code for optimizer '{name}'")


def _main(s: Settings) -> list[str]:
    opt, opt_args = optimizer(s.plan.optimizer)
    compile_args = [f"optimizer={opt}({', '.join(opt_args)})", f"loss={LOSSES[s.plan.loss]}"]
    if s.plan.loss in METRICS:
        compile_args.append(f"metrics={METRICS[s.plan.loss]}")
    return [
        "def main():",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        '    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over data")',
        "    args = parser.parse_args()",
        "",
        "    keras.utils.set_random_seed(SEED)",
        "    x_train, y_train, x_val, y_val = load_data()",
        "    model = build_model()",
        *_compile(compile_args),
        "    validation = (x_val, y_val) if len(x_val) else None",
        "",
        '    line = f"initial - loss: {initial_loss(model, x_train, y_train):.4f}"',
        "    if validation:",
        '        line += f" - val_loss: {initial_loss(model, x_val, y_val):.4f}"',
        "    print(line, flush=True)",
        *call(
            INDENT,
            "model.fit",
            [
                "x_train",
                "y_train",
                "batch_size=BATCH_SIZE",
                "epochs=args.epochs",
                "validation_data=validation",
                "shuffle=True",
                "verbose=2",
            ],
        ),
        "",
        "",
        "def initial_loss(model, x, y):",
        '    """The loss before any training, in inference mode."""',
        "    scores = model.evaluate(x, y, batch_size=BATCH_SIZE, verbose=0, return_dict=True)",
        '    return scores["loss"]',
    ]


def _compile(args: list[str]) -> list[str]:
    one = call(INDENT, "model.compile", args)
    if len(one) == 1 or len(one) == 3:
        return one
    # One argument per line: a long optimizer call is itself laid out by ruff's rules.
    out = [f"{INDENT}model.compile("]
    for arg in args:
        head, _, rest = arg.partition("(")
        if len(f"{INDENT * 2}{arg},") > 88 and rest.endswith(")"):
            out.extend(call(INDENT * 2, head, rest[:-1].split(", "), ","))
        else:
            out.append(f"{INDENT * 2}{arg},")
    out.append(f"{INDENT})")
    return out


def keras_source(s: Settings) -> str:
    """The whole ``model_keras.py`` for resolved project settings."""
    opt_name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}[
        s.plan.optimizer["name"]
    ]
    header = script_header(
        s,
        "Keras",
        "model_keras.py",
        "keras (with TensorFlow)",
        [
            "The data are generated, split and scaled as TwinTrain does. "
            "The initial weights are Keras' own "
            f"and the optimizer is Keras' {opt_name}, "
            "so the losses come close to a TwinTrain run's without "
            "matching it step for step.",
        ],
    )
    data_imports = code_data.imports(s)
    std = [line for line in data_imports if line.startswith(("import csv", "from pathlib"))]
    third = [
        line for line in data_imports if line and line not in std and line != "import numpy as np"
    ]
    imports = [
        "import argparse",
        *std,
        "",
        *sorted(
            ["import keras", "import numpy as np", "from keras import layers", *third],
            key=lambda line: (line.startswith("from"), line.split()[1].lower()),
        ),
    ]
    body = [
        *header,
        "",
        *imports,
        "",
        *code_data.constants(s),
        *code_data.user_file(s),
        "",
        "",
        *code_data.functions(s),
        "",
        "",
        *_model(s),
        "",
        "",
        *_main(s),
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    return "\n".join(body) + "\n"
