"""``model_keras.py``: the project as a plain Keras 3 script (a functional model and ``fit``).

Keras' own conventions are the spec's (channels-last, 'same' padding, momentum), so each
layer maps to one Keras layer: the class and arguments of the backend's table (keras_adapters),
written where they differ from Keras' defaults.
"""

from __future__ import annotations

from engine.backends.keras_adapters import KERAS, Arg
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
    string_lines,
)
from engine.runtimes import RUNTIMES
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
# How each of the tensorflow runtime's modes runs fit's training step, for --mode's help; the
# script passes model.compile run_eagerly=(mode == "eager"), jit_compile=(mode == "xla").
STEPS = {
    "graph": "tf.function",
    "eager": "no tf.function",
    "xla": "tf.function(jit_compile=True)",
}
METRICS = {
    "cross_entropy": '["accuracy"]',
    "binary_cross_entropy": "[keras.metrics.BinaryAccuracy(threshold=0.0)]",  # logits: 0 is p = 0.5
}


def _code(arg: Arg) -> str:
    value = size(arg.value) if arg.size else literal(arg.value)
    return value if arg.keyword is None else f"{arg.keyword}={value}"


def _layer(node: Node) -> tuple[str, list[str]]:
    """(Keras layer class, constructor arguments) for one node, its name last: the backend's
    table (keras_adapters), written where an argument differs from Keras' default."""
    adapter = KERAS[node.type]
    act = node.params.get("activation", "none")
    args = [_code(a) for a in adapter.args(node, ACTIVATIONS.get(act)) if a.written]
    args.append(f"name={literal(node.id)}")
    return f"layers.{adapter.cls}", args


def _model(s: Settings) -> list[str]:
    plan = s.plan
    names = Namer()
    var = {INPUT_ID: "inputs"}
    body = [f'{INDENT}inputs = keras.Input(shape={literal(tuple(plan.input_shape))}, name="input")']
    for node in plan.nodes:
        out = "x" if plan.is_chain else names(node.id)
        cls, args = _layer(node)
        ins = [var[r] for r in node.inputs]
        tail = f"([{', '.join(ins)}])" if KERAS[node.type].merge else f"({ins[0]})"
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


def modes() -> list[str]:
    """The script's --mode choices: the tensorflow runtime's modes, its default first."""
    ids = [m.id for m in RUNTIMES["tensorflow"].modes]
    if set(ids) != set(STEPS):  # a mode added to the registry needs its code here
        raise ValueError(f"no Keras code for modes {sorted(set(ids) ^ set(STEPS))}")
    return ids


def _mode_option() -> list[str]:
    """The --mode argument, its check under another Keras backend, and the line naming it."""
    ids = modes()
    described = ", ".join(f"{m}: {STEPS[m]}" for m in ids)
    help_text = f"{described}; with Keras' TensorFlow backend only"
    return [
        "    parser.add_argument(",
        '        "--mode",',
        *call(INDENT * 2, "choices=", [literal(i) for i in ids], ","),
        f"        default={literal(ids[0])},",
        *string_lines(INDENT * 2, "help=", help_text, ","),
        "    )",
        "    args = parser.parse_args()",
        "    backend = keras.backend.backend()",
        '    if backend == "tensorflow":',
        '        print(f"mode: {args.mode}", flush=True)',
        f"    elif args.mode == {literal(ids[0])}:  # another backend: Keras' own default step",
        '        print(f"mode: Keras\' default for the {backend} backend", flush=True)',
        "    else:",
        '        parser.error(f"--mode {args.mode} needs the TensorFlow backend, not {backend}")',
    ]


def _main(s: Settings) -> list[str]:
    opt, opt_args = optimizer(s.plan.optimizer)
    compile_args = [f"optimizer={opt}({', '.join(opt_args)})", f"loss={LOSSES[s.plan.loss]}"]
    if s.plan.loss in METRICS:
        compile_args.append(f"metrics={METRICS[s.plan.loss]}")
    compile_args.append("**step_options(args.mode)")
    return [
        "def main():",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        '    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over data")',
        *code_data.predict_argument(s),
        *_mode_option(),
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
        *code_data.predictions(s, ["        scores = model.predict(x, verbose=0)"]),
        "",
        "",
        "def step_options(mode):",
        '    """model.compile\'s arguments for --mode: how fit runs its training step."""',
        '    if keras.backend.backend() != "tensorflow":',
        "        return {}  # Keras' default for the backend",
        '    return {"run_eagerly": mode == "eager", "jit_compile": mode == "xla"}',
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
            "--mode picks how fit runs the training step, as TwinTrain's TensorFlow columns "
            f"do: {', '.join(f'{m} ({STEPS[m]})' for m in modes())}. It applies to Keras' "
            "TensorFlow backend only; under another KERAS_BACKEND the script keeps Keras' "
            "default step and accepts only the default mode.",
        ],
        mode=modes()[-1],
    )
    data_imports = code_data.imports(s)
    std = [line for line in data_imports if line.startswith(code_data.STANDARD_LIBRARY)]
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
