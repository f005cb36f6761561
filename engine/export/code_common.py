"""Shared pieces of the generated scripts: names, line layout, the project's settings, headers.

The scripts must read as if written by hand and pass ``ruff format --check`` unchanged, so
long calls are laid out the way ruff lays them out (see ``call``).
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.backends.plan import Plan, make_plan
from engine.data.catalog import DatasetInfo, describe, resolve
from engine.spec.project import Project
from engine.spec.training import resolve_training

LINE_LENGTH = 88  # ruff's and black's default, which a user's own tools will apply
INDENT = "    "


@dataclass(frozen=True)
class Settings:
    """Everything a script needs from the project, resolved (defaults filled in)."""

    name: str
    description: str
    plan: Plan
    dataset: dict[str, Any]
    info: DatasetInfo | None  # None where a user's file could not be read at export time
    batch_size: int
    epochs: int
    seed: int
    target: str  # "labels" or "input" (autoencoder)

    @property
    def classification(self) -> bool:
        return self.plan.classification


def settings(project: Project) -> Settings:
    plan = make_plan(project)  # raises the project's first spec error
    try:
        info: DatasetInfo | None = describe(project.training["dataset"], project.base_dir)
    except Exception:  # a user's file missing here: the script says where to put it
        info = None
    training = resolve_training(project.training, info.task if info else None)
    return Settings(
        project.name,
        project.description,
        plan,
        resolve(project.training["dataset"]),
        info,
        int(training["batch_size"]),
        int(training["epochs"]),
        int(training["seed"]),
        training["target"],
    )


# ---- names -------------------------------------------------------------------------------------

# Names the scripts use at module level or inside the model code; a layer id equal to one of
# them gets a trailing underscore.
SCRIPT_NAMES = frozenset(
    {
        "argparse",
        "csv",
        "re",
        "encode",
        "class_names",
        "LENGTH",
        "np",
        "Path",
        "torch",
        "nn",
        "F",
        "DataLoader",
        "TensorDataset",
        "keras",
        "layers",
        "x",
        "inputs",
        "outputs",
        "model",
        "self",
        "Net",
        "main",
        "load_data",
        "load_dataset",
        "build_model",
        "train",
        "evaluate",
        "parse_args",
        "DEVICE",
        "COMPILE_MODES",
        "step_function",
        "batch_loss",
        "step_options",
        "initial_loss",
        "SEED",
        "EPOCHS",
        "BATCH_SIZE",
        "VALIDATION_SPLIT",
        "DATA_FILE",
    }
)
# Public attributes of torch.nn.Module (a test keeps this in step with the installed torch);
# private ones are avoided by never using a leading underscore.
MODULE_ATTRIBUTES = frozenset(
    {
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "training",
        "type",
        "xpu",
        "zero_grad",
    }
)
_BUILTINS = frozenset(dir(builtins))


class Namer:
    """Hands out unique Python names for layer ids, avoiding keywords and names in use."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()) -> None:
        self.reserved = set(reserved)
        self.taken: set[str] = set()

    def __call__(self, wanted: str) -> str:
        name = wanted.strip("_") or "layer"
        if name[0].isdigit():
            name = f"layer_{name}"
        while (
            name in self.taken
            or name in self.reserved
            or keyword.iskeyword(name)
            or keyword.issoftkeyword(name)
            or name in _BUILTINS
            or name in SCRIPT_NAMES
        ):
            name += "_"
        self.taken.add(name)
        return name


# ---- layout ------------------------------------------------------------------------------------


def literal(value: Any) -> str:
    """A Python literal as ruff format writes it (double quotes, tuples for pairs)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(
        value, str
    ):  # control characters escaped, so a name with a newline still compiles
        return '"' + "".join(_string_char(c) for c in value) + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return repr(value)


def size(value: int | Sequence[int]) -> str:
    """A kernel/stride size: one int when every axis is equal, else a tuple."""
    if isinstance(value, int):
        return str(value)
    values = list(value)
    return str(values[0]) if len(set(values)) == 1 else literal(tuple(values))


def call(indent: str, head: str, args: Sequence[str], tail: str = "") -> list[str]:
    """``head(args)tail`` on one line when it fits, else laid out as ruff format does: the
    arguments on one indented line, or one per line with a trailing comma."""
    one = f"{indent}{head}({', '.join(args)}){tail}"
    if len(one) <= LINE_LENGTH or not args:
        return [one]
    inner = indent + INDENT
    hugged = inner + ", ".join(args)
    if len(hugged) <= LINE_LENGTH:
        return [f"{indent}{head}(", hugged, f"{indent}){tail}"]
    return [f"{indent}{head}(", *(f"{inner}{a}," for a in args), f"{indent}){tail}"]


def string_lines(indent: str, head: str, text: str, tail: str = "") -> list[str]:
    """``head"text"tail`` as ruff format leaves it: one line when it fits, else the string split
    at spaces into implicitly concatenated pieces, one a line, each within the line length."""
    one = f"{indent}{head}{literal(text)}{tail}"
    if len(one) <= LINE_LENGTH:
        return [one]
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        prefix = head if not pieces else ""
        candidate = f"{current} {word}" if current else word
        if current and len(indent + prefix + literal(candidate)) > LINE_LENGTH - len(tail):
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    pieces.append(current)
    out = [f"{indent}{head}{literal(pieces[0])}"]
    out += [f"{indent}{literal(p)}" for p in pieces[1:]]
    out[-1] += tail
    return out


def _string_char(c: str) -> str:
    if c in '\\"':
        return "\\" + c
    return c if c.isprintable() else repr(c)[1:-1]


def doc_safe(text: str) -> str:
    """Text that cannot end a triple-quoted docstring or start an escape, whatever a project's
    name or description holds (a name with \"\"\" must not put code into an exported script)."""
    text = text.replace("\\", "/").replace('"', "'")
    return "".join(c if c.isprintable() else " " for c in text)  # no NUL, no lone surrogate


def docstring(indent: str, text: str) -> list[str]:
    """A one-line docstring, or a wrapped one when the text is long."""
    text = doc_safe(text)
    one = f'{indent}"""{text}"""'
    if len(one) <= LINE_LENGTH:
        return [one]
    words, current = text.split(), ""
    lines: list[str] = []
    for word in words:
        opening = 3 if not lines else 0  # the first line starts with the quotes
        if current and len(indent) + opening + len(current) + 1 + len(word) > LINE_LENGTH:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    return [f'{indent}"""{lines[0]}', *(f"{indent}{line}" for line in lines[1:]), f'{indent}"""']


def comment_lines(indent: str, text: str) -> list[str]:
    """A comment wrapped to the line length."""
    out, current = [], ""
    for word in text.split():
        if current and len(indent) + 2 + len(current) + 1 + len(word) > LINE_LENGTH:
            out.append(f"{indent}# {current}")
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        out.append(f"{indent}# {current}")
    return out


def shape_text(shape: Sequence[int]) -> str:
    return "[N, " + ", ".join(str(s) for s in shape) + "]"


def script_header(
    s: Settings,
    framework: str,
    file: str,
    package: str,
    notes: list[str],
    mode: str | None = None,
) -> list[str]:
    """The module docstring: what the script is, what it needs, how to run it (``mode``: a
    non-default --mode shown in the examples)."""
    title = f"{s.name}: {s.description}" if s.description else s.name
    paragraphs = [
        f"{framework} version of the TwinTrain project '{s.name}', "
        "written by TwinTrain's code export. "
        f"It needs only {package}, numpy and scikit-learn.",
        *notes,
    ]
    out = _wrap_text(title)
    out[0] = '"""' + out[0]
    for text in paragraphs:
        out += ["", *_wrap_text(text)]
    out += [
        "",
        f"    python {file}              # {s.epochs} epochs, as in the project",
        f"    python {file} --epochs 1",
        *([f"    python {file} --mode {mode}"] if mode else []),
        '"""',
    ]
    return out


def _wrap_text(text: str) -> list[str]:
    text = doc_safe(text)
    lines, current = [], ""
    for word in " ".join(text.split()).split(" "):
        if current and len(current) + 1 + len(word) > LINE_LENGTH - 4:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current]
