"""``model_torch.py``: the project as a plain PyTorch script (an nn.Module and a training loop).

The network keeps the project's channels-last input and output; it permutes to PyTorch's
channels-first layout only around the layers that need it (convolutions, pooling, batch norm)
and back before Flatten/Dense/recurrent layers, each permute commented, so the data and the
output shapes are the same as in Keras. TensorFlow's 'same' padding with an odd remainder is
written out with F.pad, as PyTorch pads symmetrically.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.backends.plan import ELU_ALPHA, LEAKY_RELU_SLOPE, Node, same_padding
from engine.backends.torch_adapters import out_layout, run_layout
from engine.export import code_data
from engine.export.code_common import (
    INDENT,
    MODULE_ATTRIBUTES,
    Namer,
    Settings,
    call,
    comment_lines,
    docstring,
    literal,
    script_header,
    shape_text,
    size,
    string_lines,
)
from engine.runtimes import RUNTIMES
from engine.spec.params import pair
from engine.spec.project import INPUT_ID

I2 = INDENT * 2
# torch.compile's mode argument for each compiled --mode, on a CPU and on CUDA (None: its default
# mode): engine.backends.torch_compile.TORCH_MODES, written out here because the export loads no
# framework (a test keeps the two equal). The mode ids themselves come from RUNTIMES["torch"].
COMPILE_MODES: dict[str, tuple[str | None, str | None]] = {
    "compile": (None, None),
    "compile-max": ("max-autotune-no-cudagraphs", "max-autotune"),
    "reduce-overhead": (None, "reduce-overhead"),
}
LOSSES = {
    "cross_entropy": "nn.CrossEntropyLoss()",
    "binary_cross_entropy": "nn.BCEWithLogitsLoss()",
    "mse": "nn.MSELoss()",
    "mae": "nn.L1Loss()",
}


def activation(name: str, expr: str, dim: int = -1) -> str:
    """``expr`` passed through a spec activation, written with torch / F functions."""
    return {
        "none": expr,
        "relu": f"F.relu({expr})",
        "leaky_relu": f"F.leaky_relu({expr}, negative_slope={LEAKY_RELU_SLOPE})",
        "elu": f"F.elu({expr}, alpha={ELU_ALPHA})",
        "gelu": f"F.gelu({expr})",  # exact (erf) form, as Keras' gelu
        "tanh": f"torch.tanh({expr})",
        "sigmoid": f"torch.sigmoid({expr})",
        "softmax": f"F.softmax({expr}, dim={dim})",
        "softplus": f"F.softplus({expr})",
        "swish": f"F.silu({expr})",
    }[name]


def _permute(rank: int, to_cf: bool) -> tuple[str, str]:
    """(permute arguments, comment) for a tensor of ``rank`` axes, batch included."""
    if to_cf:
        dims = (0, rank - 1, *range(1, rank - 1))
    else:
        dims = (0, *range(2, rank), 1)
    spatial = {3: ["T"], 4: ["H", "W"], 5: ["D", "H", "W"]}.get(
        rank, [f"S{i}" for i in range(1, rank - 1)]
    )
    cl = "[N, " + ", ".join(spatial) + ", C]"
    cf = "[N, C, " + ", ".join(spatial) + "]"
    return ", ".join(map(str, dims)), (f"{cl} -> {cf}" if to_cf else f"{cf} -> {cl}")


class _ModelWriter:
    """Walks the plan, writing __init__ and forward statements and tracking each tensor's layout."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.plan = s.plan
        self.chain = s.plan.is_chain
        self.attrs = Namer(MODULE_ATTRIBUTES)
        self.locals = Namer()
        self.init: list[str] = []
        self.fwd: list[str] = []
        self.var = {INPUT_ID: "x"}
        self.layout: dict[str, str] = {INPUT_ID: "cl"}
        self.rank = {INPUT_ID: len(s.plan.input_shape) + 1}
        self.converted: dict[tuple[str, str], str] = {}
        self.attr_of: dict[str, str] = {}  # layer id -> attribute holding its module
        self.ran: dict[str, str] = {}  # layer id -> the layout it runs in

    # ---- tensors and layouts ----------------------------------------------------------------

    def fetch(self, ref: str, want: str | None, why: str) -> str:
        """The variable holding ``ref`` in layout ``want``, permuting it first if needed."""
        have = self.layout[ref]
        if want is None or want == have or self.rank[ref] <= 2:
            return self.var[ref]
        if (ref, want) in self.converted:
            return self.converted[(ref, want)]
        dims, note = _permute(self.rank[ref], want == "cf")
        src = self.var[ref]
        if self.chain:  # nothing else reads the old layout: convert in place
            self.fwd.append(f"{I2}{src} = {src}.permute({dims})  # {note} {why}")
            self.layout[ref] = want
            return src
        name = self.locals(f"{src}_{want}")
        self.fwd.append(f"{I2}{name} = {src}.permute({dims})  # {note} {why}")
        self.converted[(ref, want)] = name
        return name

    def out_var(self, node: Node) -> str:
        return "x" if self.chain else self.locals(node.id)

    # ---- the walk ---------------------------------------------------------------------------

    def write(self) -> None:
        for node in self.plan.nodes:
            # The backend's rule (torch_adapters): the script permutes where the backend does.
            first = node.inputs[0]
            want = run_layout(node.type, self.layout[first], self.rank[first])
            self.ran[node.id] = want
            why = _why(node.type, want)
            ins = [self.fetch(ref, want, why) for ref in node.inputs]
            out = self.out_var(node)
            self.emit(node, ins, out, want == "cf")
            self.var[node.id] = out
            self.rank[node.id] = len(node.output_shape) + 1
            self.layout[node.id] = out_layout(want, self.rank[node.id])
        last = self.plan.output_id
        result = self.fetch(last, "cl", "(the output is channels-last)")
        self.fwd.append(f"{I2}return {result}")

    def layer(self, node: Node, head: str, args: list[str]) -> str:
        attr = self.attrs(node.id)
        self.attr_of[node.id] = attr
        self.init.extend(call(I2, f"self.{attr} = {head}", args))
        return f"self.{attr}"

    def emit(self, node: Node, ins: list[str], out: str, cf: bool) -> None:
        write = CODE.get(node.type)
        if write is None:
            raise ValueError(f"layer '{node.id}': no PyTorch code for layer type {node.type}")
        write(self, node, ins, out, cf)

    def conv(self, node: Node, a: str, out: str) -> None:
        p = node.params
        rank = len(node.input_shapes[0]) - 1  # spatial axes
        k = (p["kernel_size"],) if rank == 1 else pair(p["kernel_size"])
        st = (p["strides"],) if rank == 1 else pair(p["strides"])
        args = [str(node.input_shapes[0][-1]), str(p["filters"]), f"kernel_size={size(k)}"]
        if any(v != 1 for v in st):
            args.append(f"stride={size(st)}")
        pads = _pads(node, k, st)
        x = a
        if p["padding"] == "same" and all(v == 1 for v in st):
            args.append('padding="same"')
        elif any(b or e for b, e in pads):
            if all(b == e for b, e in pads):
                args.append(f"padding={size([b for b, _ in pads])}")
            else:
                self.fwd.extend(
                    comment_lines(
                        I2,
                        "TensorFlow's 'same' padding: the odd row/column goes "
                        "after (bottom/right), which PyTorch's padding= cannot do.",
                    )
                )
                x = f"F.pad({a}, {literal(_flat_pads(pads))})"
        if not p["use_bias"]:
            args.append("bias=False")
        m = self.layer(node, f"nn.Conv{rank}d", args)
        self.fwd.append(f"{I2}{out} = {activation(p['activation'], f'{m}({x})', 1)}")

    def pool(self, node: Node, a: str, out: str, is_max: bool) -> None:
        p = node.params
        rank = len(node.input_shapes[0]) - 1  # spatial axes
        k = (p["pool_size"],) if rank == 1 else pair(p["pool_size"])
        st = (p["strides"],) if rank == 1 else pair(p["strides"])
        cls = f"nn.{'Max' if is_max else 'Avg'}Pool{rank}d"
        args = [f"kernel_size={size(k)}"]
        if tuple(st) != tuple(k):
            args.append(f"stride={size(st)}")
        pads = _pads(node, k, st)
        symmetric = all(b == e for b, e in pads)
        if any(b or e for b, e in pads) and symmetric:
            args.append(f"padding={size([b for b, _ in pads])}")
            if not is_max:
                args.append("count_include_pad=False")
        m = self.layer(node, cls, args)
        if symmetric:
            self.fwd.append(f"{I2}{out} = {m}({a})")
            return
        flat = literal(_flat_pads(pads))
        if is_max:
            self.fwd.extend(
                comment_lines(
                    I2,
                    "TensorFlow's 'same' padding (odd row/column after), "
                    "with -inf so that padding is never the maximum.",
                )
            )
            self.fwd.append(f'{I2}{out} = {m}(F.pad({a}, {flat}, value=float("-inf")))')
            return
        counts = self.attrs(f"{node.id}_share")
        spatial = ", ".join(str(v) for v in node.input_shapes[0][:-1])
        self.init.extend(
            comment_lines(
                I2,
                "'same' average pooling averages real values only: dividing "
                f"{m}'s output by each window's share of them.",
            )
        )
        self.init.extend(
            call(
                I2,
                "self.register_buffer",
                [
                    literal(counts),
                    f"{m}(F.pad(torch.ones(1, 1, {spatial}), {flat}))",
                    "persistent=False",
                ],
            )
        )
        self.fwd.append(f"{I2}{out} = {m}(F.pad({a}, {flat})) / self.{counts}")

    def lines(self) -> list[str]:
        plan = self.plan
        doc = (
            f"{_describe(self.s)}: input {shape_text(plan.input_shape)}, "
            f"output {shape_text(plan.output_shape)}."
        )
        if len(plan.input_shape) > 1:
            doc += " Both channels-last, like the data; convolutions run channels-first inside."
        return [
            "class Net(nn.Module):",
            *docstring(INDENT, doc),
            "",
            f"{INDENT}def __init__(self):",
            f"{I2}super().__init__()",
            *self.init,
            "",
            f"{INDENT}def forward(self, x):",
            *self.fwd,
        ]


# ---- per layer type: the code written for it ------------------------------------------------

Write = Callable[[_ModelWriter, Node, list[str], str, bool], None]


def _dense(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    p = node.params
    bias = [] if p["use_bias"] else ["bias=False"]
    m = w.layer(node, "nn.Linear", [str(node.input_shapes[0][-1]), str(p["units"]), *bias])
    w.fwd.append(f"{I2}{out} = {activation(p['activation'], f'{m}({ins[0]})')}")


def _conv(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    w.conv(node, ins[0], out)


def _pool(is_max: bool) -> Write:
    return lambda w, node, ins, out, cf: w.pool(node, ins[0], out, is_max)


def _global_avg_pool(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    n = len(node.input_shapes[0]) - 1
    dims = tuple(range(2, 2 + n)) if cf else tuple(range(1, 1 + n))
    w.fwd.append(f"{I2}{out} = {ins[0]}.mean(dim={dims[0] if n == 1 else literal(dims)})")


def _flatten(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    w.fwd.append(f"{I2}{out} = {ins[0]}.flatten(1)")


def _reshape(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    w.fwd.append(f"{I2}{out} = {ins[0]}.reshape(-1, {', '.join(map(str, node.output_shape))})")


def _dropout(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    m = w.layer(node, "nn.Dropout", [literal(float(node.params["rate"]))])
    w.fwd.append(f"{I2}{out} = {m}({ins[0]})")


def _batch_norm(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    p, shape_in = node.params, node.input_shapes[0]
    rank = len(shape_in) + 1
    if rank > 5:
        raise ValueError(
            f"layer '{node.id}': BatchNorm on a rank-{rank - 1} input has no PyTorch layer"
        )
    bn_dims = {2: 1, 3: 1, 4: 2, 5: 3}[rank]
    momentum = round(1.0 - float(p["momentum"]), 12)
    w.init.extend(
        comment_lines(
            I2,
            f"momentum={momentum:g} is Keras' momentum {p['momentum']:g}: "
            "PyTorch weights the new batch, Keras the running average.",
        )
    )
    m = w.layer(
        node,
        f"nn.BatchNorm{bn_dims}d",
        [
            str(shape_in[-1]),
            f"eps={literal(float(p['epsilon']))}",
            f"momentum={momentum!r}",
        ],
    )
    w.fwd.append(f"{I2}{out} = {m}({ins[0]})")


def _layer_norm(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    eps = f"eps={literal(float(node.params['epsilon']))}"
    m = w.layer(node, "nn.LayerNorm", [str(node.input_shapes[0][-1]), eps])
    w.fwd.append(f"{I2}{out} = {m}({ins[0]})")


def _activation(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    name, a = node.params["activation"], ins[0]
    channel_dim = 1 if cf and len(node.input_shapes[0]) > 1 else -1
    if name != "none" or out != a:
        w.fwd.append(f"{I2}{out} = {activation(name, a, channel_dim)}")


def _embedding(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    p = node.params
    m = w.layer(node, "nn.Embedding", [str(p["input_dim"]), str(p["output_dim"])])
    w.fwd.append(f"{I2}{out} = {m}({ins[0]}.long())  # indices arrive as floats")


def _recurrent(cls: str) -> Write:
    def write(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
        p = node.params
        m = w.layer(node, cls, [str(node.input_shapes[0][-1]), str(p["units"]), "batch_first=True"])
        w.fwd.append(f"{I2}{out}, _ = {m}({ins[0]})")
        if not p["return_sequences"]:
            w.fwd.append(f"{I2}{out} = {out}[:, -1]  # the last time step only")

    return write


def _add(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    w.fwd.append(f"{I2}{out} = {' + '.join(ins)}")


def _concatenate(w: _ModelWriter, node: Node, ins: list[str], out: str, cf: bool) -> None:
    rank = len(node.input_shapes[0])
    axis = node.params["axis"] % rank
    dim = (1 if axis == rank - 1 else axis + 2) if cf and rank > 1 else axis + 1
    w.fwd.append(f"{I2}{out} = torch.cat([{', '.join(ins)}], dim={dim})")


# Keyed by layer type, like the backend's table (torch_adapters.TORCH); a test keeps both
# covering the registry exactly. ``cf``: the node runs channels-first (the rule in TORCH).
CODE: dict[str, Write] = {
    "Dense": _dense,
    "Conv1D": _conv,
    "Conv2D": _conv,
    "MaxPool1D": _pool(True),
    "MaxPool2D": _pool(True),
    "AvgPool1D": _pool(False),
    "AvgPool2D": _pool(False),
    "GlobalAvgPool1D": _global_avg_pool,
    "GlobalAvgPool2D": _global_avg_pool,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dropout": _dropout,
    "BatchNorm": _batch_norm,
    "LayerNorm": _layer_norm,
    "Activation": _activation,
    "Embedding": _embedding,
    "LSTM": _recurrent("nn.LSTM"),
    "GRU": _recurrent("nn.GRU"),
    "SimpleRNN": _recurrent("nn.RNN"),
    "Add": _add,
    "Concatenate": _concatenate,
}


def _why(kind: str, want: str) -> str:
    return f"for {kind}"


def _pads(node: Node, k: tuple[int, ...], st: tuple[int, ...]) -> list[tuple[int, int]]:
    spatial = node.input_shapes[0][:-1]
    if node.params["padding"] != "same":
        return [(0, 0)] * len(spatial)
    return [same_padding(n, kk, s) for n, kk, s in zip(spatial, k, st)]


def _flat_pads(pads: list[tuple[int, int]]) -> tuple[int, ...]:
    flat: list[int] = []
    for before, after in reversed(pads):  # F.pad lists the last axis first
        flat += [before, after]
    return tuple(flat)


def _describe(s: Settings) -> str:
    kinds = [n.type for n in s.plan.nodes]
    return f"The {s.name} network ({len(kinds)} layers)"


def optimizer(spec: dict) -> tuple[str, list[str]]:
    """(constructor, arguments) for PyTorch's stock optimizer with the project's settings."""
    name, lr = spec["name"], literal(float(spec["learning_rate"]))
    if name == "sgd":
        args = [f"lr={lr}"]
        if spec["momentum"]:
            args.append(f"momentum={literal(float(spec['momentum']))}")
        if spec["nesterov"]:
            args.append("nesterov=True")
        return "torch.optim.SGD", args
    if name in ("adam", "adamw"):
        args = [
            f"lr={lr}",
            f"betas=({literal(float(spec['beta_1']))}, {literal(float(spec['beta_2']))})",
            f"eps={literal(float(spec['epsilon']))}",
        ]
        if name == "adamw":
            args.append(f"weight_decay={literal(float(spec['weight_decay']))}")
        return ("torch.optim.AdamW" if name == "adamw" else "torch.optim.Adam"), args
    if name == "rmsprop":
        args = [
            f"lr={lr}",
            f"alpha={literal(float(spec['rho']))}",
            f"eps={literal(float(spec['epsilon']))}",
        ]
        if spec["momentum"]:
            args.append(f"momentum={literal(float(spec['momentum']))}")
        return "torch.optim.RMSprop", args
    raise ValueError(f"no PyTorch code for optimizer '{name}'")


def _evaluate(s: Settings) -> list[str]:
    loss = s.plan.loss
    lines = [
        "def evaluate(model, loss_fn, x, y):",
        '    """Mean loss (and accuracy) over a whole split, in inference mode."""',
        "    model.eval()",
        "    total, correct = 0.0, 0" if s.classification else "    total = 0.0",
        "    with torch.no_grad():",
        "        for start in range(0, len(x), BATCH_SIZE):",
        "            xb = x[start : start + BATCH_SIZE].to(DEVICE)",
        "            yb = y[start : start + BATCH_SIZE].to(DEVICE)",
        "            out = model(xb)",
        "            total += loss_fn(out, yb).item() * len(xb)",
    ]
    if loss == "cross_entropy":
        lines.append("            correct += (out.argmax(dim=1) == yb).sum().item()")
    elif loss == "binary_cross_entropy":
        lines.append(
            "            correct += ((out > 0).float() == yb).sum().item()  # logit > 0: p > 0.5"
        )
    lines.append(
        "    return total / len(x), (correct / len(x) if len(x) else 0.0)"
        if s.classification
        else "    return total / len(x), None"
    )
    return lines


def modes() -> list[str]:
    """The script's --mode choices: the torch runtime's modes, its default first."""
    ids = [m.id for m in RUNTIMES["torch"].modes]
    if set(ids[1:]) != set(COMPILE_MODES):  # a mode added to the registry needs its code here
        raise ValueError(f"no PyTorch code for modes {sorted(set(ids[1:]) ^ set(COMPILE_MODES))}")
    return ids


def _mode_option() -> list[str]:
    """The --mode argument, its check, and the line naming the mode."""
    ids = modes()
    cuda_only = [m.id for m in RUNTIMES["torch"].modes if m.cuda_only]
    help_text = f"{ids[0]}, or torch.compile of the forward pass and loss" + (
        f" ({', '.join(cuda_only)}: CUDA only)" if cuda_only else ""
    )
    lines = [
        "    parser.add_argument(",
        '        "--mode",',
        *call(INDENT * 2, "choices=", [literal(i) for i in ids], ","),
        f"        default={literal(ids[0])},",
        *string_lines(INDENT * 2, "help=", help_text, ","),
        "    )",
        "    args = parser.parse_args()",
    ]
    if cuda_only:
        test = (
            f"args.mode == {literal(cuda_only[0])}"
            if len(cuda_only) == 1
            else f"args.mode in {literal(tuple(cuda_only))}"
        )
        lines += [
            f'    if {test} and DEVICE != "cuda":',
            '        parser.error(f"--mode {args.mode} needs a CUDA GPU; DEVICE is {DEVICE}")',
        ]
    lines.append('    print(f"mode: {args.mode} on {DEVICE}", flush=True)')
    return lines


def _compile_modes() -> list[str]:
    """The COMPILE_MODES table of the script, in the registry's order."""
    rows = [f"    {literal(m)}: {literal(COMPILE_MODES[m])}," for m in modes()[1:]]
    return [
        "# torch.compile's mode argument for each compiled --mode, on a CPU and on CUDA",
        "# (None: torch.compile's default mode).",
        "COMPILE_MODES = {",
        *rows,
        "}",
    ]


def _step_function() -> list[str]:
    return [
        "def step_function(model, loss_fn, mode):",
        '    """The function from a batch to its loss, under torch.compile in a compiled --mode.',
        "",
        "    The backward pass runs through the compiled graph and the optimizer's update stays",
        "    eager. The model itself is not replaced, so the weights it trains are the same",
        "    module's in every mode.",
        '    """',
        "",
        "    def batch_loss(x, y):",
        "        return loss_fn(model(x), y)",
        "",
        "    if mode not in COMPILE_MODES:",
        "        return batch_loss",
        "    cpu_mode, cuda_mode = COMPILE_MODES[mode]",
        '    return torch.compile(batch_loss, mode=cuda_mode if DEVICE == "cuda" else cpu_mode)',
    ]


def _main(s: Settings) -> list[str]:
    opt, opt_args = optimizer(s.plan.optimizer)
    acc = s.classification
    report_val = ['            report += f" - val_loss: {val_loss:.4f}"']
    if acc:
        report_val.append('            report += f" - val_accuracy: {val_accuracy:.4f}"')
    return [
        "def main():",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        '    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over data")',
        *code_data.predict_argument(s),
        *_mode_option(),
        "",
        "    torch.manual_seed(SEED)",
        "    x_train, y_train, x_val, y_val = (torch.from_numpy(a) for a in load_data())",
        "    model = Net().to(DEVICE)",
        *call(INDENT, f"optimizer = {opt}", ["model.parameters()", *opt_args]),
        f"    loss_fn = {LOSSES[s.plan.loss]}",
        "    batch_loss = step_function(model, loss_fn, args.mode)",
        "    train_set = TensorDataset(x_train, y_train)",
        "    batches = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)",
        "",
        '    line = f"initial - loss: {evaluate(model, loss_fn, x_train, y_train)[0]:.4f}"',
        "    if len(x_val):",
        '        line += f" - val_loss: {evaluate(model, loss_fn, x_val, y_val)[0]:.4f}"',
        "    print(line, flush=True)",
        "    for epoch in range(args.epochs):",
        "        model.train()",
        "        total = 0.0",
        "        for xb, yb in batches:",
        "            xb, yb = xb.to(DEVICE), yb.to(DEVICE)",
        "            optimizer.zero_grad()",
        "            loss = batch_loss(xb, yb)",
        "            loss.backward()",
        "            optimizer.step()",
        "            total += loss.item() * len(xb)",
        '        report = f"epoch {epoch + 1}/{args.epochs} - loss: {total / len(x_train):.4f}"',
        "        if len(x_val):",
        "            val_loss, val_accuracy = evaluate(model, loss_fn, x_val, y_val)",
        *report_val,
        "        print(report, flush=True)",
        *code_data.predictions(
            s,
            [
                "        model.eval()",
                "        with torch.no_grad():",
                "            scores = model(torch.from_numpy(x).to(DEVICE)).cpu().numpy()",
            ],
        ),
    ]


def attribute_names(s: Settings) -> dict[str, str]:
    """{layer id: the attribute of Net holding its module}, for loading weights by name."""
    writer = _ModelWriter(s)
    writer.write()
    return dict(writer.attr_of)


def torch_source(s: Settings) -> str:
    """The whole ``model_torch.py`` for resolved project settings."""
    writer = _ModelWriter(s)
    writer.write()
    opt_name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}[
        s.plan.optimizer["name"]
    ]
    header = script_header(
        s,
        "PyTorch",
        "model_torch.py",
        "torch",
        [
            "The data are generated, split and scaled as TwinTrain does. "
            "The initial weights are PyTorch's "
            f"own and the optimizer is PyTorch's stock {opt_name}, "
            "so the losses come close to a TwinTrain "
            "run's without matching it step for step.",
            f"--mode picks how the training step runs, as TwinTrain's PyTorch columns do: "
            f"{', '.join(modes())}. The compiled modes put the forward pass and loss under "
            "torch.compile; the model and its trained weights are the same in every mode.",
        ],
        mode=modes()[1],
    )
    data_imports = code_data.imports(s)
    std = [line for line in data_imports if line.startswith(code_data.STANDARD_LIBRARY)]
    third = [
        line for line in data_imports if line and line not in std and line != "import numpy as np"
    ]
    functional = ["import torch.nn.functional as F"] if "F." in "\n".join(writer.lines()) else []
    imports = [
        "import argparse",
        *sorted(std, key=_import_key),
        "",
        *sorted(
            [
                "import numpy as np",
                "import torch",
                *functional,
                "from torch import nn",
                "from torch.utils.data import DataLoader, TensorDataset",
                *third,
            ],
            key=_import_key,
        ),
    ]
    body = [
        *header,
        "",
        *imports,
        "",
        *code_data.constants(s),
        'DEVICE = "cuda" if torch.cuda.is_available() else "cpu"',
        *_compile_modes(),
        *code_data.user_file(s),
        "",
        "",
        *code_data.functions(s),
        "",
        "",
        *writer.lines(),
        "",
        "",
        *_evaluate(s),
        "",
        "",
        *_step_function(),
        "",
        "",
        *_main(s),
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    return "\n".join(body) + "\n"


def _import_key(line: str) -> tuple[int, str]:
    """isort's order within a section: plain imports before from-imports, then by module."""
    module = line.split()[1]
    return (1 if line.startswith("from") else 0, module.lower())
