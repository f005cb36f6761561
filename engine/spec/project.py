"""The project file (docs/project-file.md): parse, validate structure, save atomically.

A Project keeps what the file said, not what the defaults make of it, so saving a loaded file
gives the same document back (``layout`` and ``x-`` keys included). Defaults are filled in on
demand by ``Layer.resolved()`` and ``resolve_training``.
"""

from __future__ import annotations

import contextlib
import copy
import glob
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

from engine.spec.errors import SpecError, closest
from engine.spec.layer_types import LAYER_TYPES, LayerType
from engine.spec.params import check_shape
from engine.spec.training import validate_training

FORMAT = "twintrain/1"
INPUT_ID = "input"
ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64  # objects and lists inside each other; a project needs about 6
MAX_CONTAINERS = 1_000_000  # objects and lists in all; 10,000 layers need about 50,000
MAX_LAYERS = 10_000
MAX_ID_LENGTH = 128
TOP_KEYS = ("format", "name", "description", "model", "training", "layout")


def _xkeys(d: dict) -> dict:
    return {k: v for k, v in d.items() if isinstance(k, str) and k.startswith("x-")}


@dataclass
class Layer:
    """One block of the network as written: its id, type, given parameters and inputs."""

    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def layer_type(self) -> LayerType:
        return LAYER_TYPES[self.type]

    def resolved(self) -> dict[str, Any]:
        """Parameters with every default filled in."""
        return self.layer_type.resolve(self.params)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, **copy.deepcopy(self.params)}
        if self.inputs is not None:
            out["inputs"] = list(self.inputs)
        out.update(copy.deepcopy(self.extras))
        return out


@dataclass
class Project:
    """A whole project file in memory."""

    input_shape: list[int]
    layers: list[Layer]
    training: dict[str, Any]
    name: str = "untitled"
    description: str = ""
    output: str | None = None
    layout: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    model_extras: dict[str, Any] = field(default_factory=dict)
    input_extras: dict[str, Any] = field(default_factory=dict)
    has_name: bool = True
    has_description: bool = True
    path: Path | None = None

    @property
    def output_id(self) -> str:
        return self.output if self.output is not None else self.layers[-1].id

    def layer(self, layer_id: str) -> Layer:
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        raise KeyError(layer_id)

    def inputs_of(self, index: int) -> list[str]:
        """The ids a layer reads: its explicit inputs, else the layer before it (or the input)."""
        layer = self.layers[index]
        if layer.inputs is not None:
            return list(layer.inputs)
        return [INPUT_ID if index == 0 else self.layers[index - 1].id]

    @property
    def base_dir(self) -> Path | None:
        return self.path.parent if self.path is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT}
        if self.has_name:
            out["name"] = self.name
        if self.has_description:
            out["description"] = self.description
        model: dict[str, Any] = {
            "input": {"shape": list(self.input_shape), **copy.deepcopy(self.input_extras)},
            "layers": [layer.to_dict() for layer in self.layers],
        }
        if self.output is not None:
            model["output"] = self.output
        model.update(copy.deepcopy(self.model_extras))
        out["model"] = model
        out["training"] = copy.deepcopy(self.training)
        if self.layout is not None:
            out["layout"] = copy.deepcopy(self.layout)
        out.update(copy.deepcopy(self.extras))
        return out

    def to_json(self) -> str:
        return dump_json(self.to_dict()) + "\n"

    def copy(self) -> Project:
        return copy.deepcopy(self)


def dump_json(value: Any, indent: str = "") -> str:
    """JSON with two-space indents, keeping lists of plain values on one line ([8, 8, 1])."""
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {dump_json(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        return "[\n" + ",\n".join(inner + dump_json(v, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _reject_constant(name: str) -> NoReturn:
    raise SpecError(f"'{name}' is not allowed in a project file (plain JSON numbers only)")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_text(text: str) -> dict:
    """JSON text to a dict, with one-line errors for every way it can be malformed.

    Memory and recursion stay bounded whatever the text holds: the number of objects and lists
    is capped before parsing, the nesting after it (deep documents would overflow the recursive
    copy and save code), and text that cannot be written back as UTF-8 (a lone surrogate escape
    such as \\ud800) is refused here rather than failing at save time."""
    if text.count("{") + text.count("[") > MAX_CONTAINERS:
        raise SpecError(f"not a project file: more than {MAX_CONTAINERS:,} objects and lists")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except SpecError:
        raise
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise SpecError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise SpecError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError("a project file must hold a JSON object")
    _check_nesting(data)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SpecError(
                f"not valid JSON text: a lone surrogate escape ({exc.object[exc.start]!r})"
            ) from None
    return data


def _copy_json(value: Any) -> Any:
    """copy.deepcopy for parsed JSON, at C speed for lists of plain values (a 13 MB x- list of
    numbers: 0.05 s instead of 0.9 s); anything that is not JSON goes to deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if kind is list:
        kinds = set(map(type, value))
        if kinds <= _JSON_SCALARS:
            return list(value)
        return [_copy_json(v) for v in value]
    return value if kind in _JSON_SCALARS else copy.deepcopy(value)


_JSON_SCALARS = {str, int, float, bool, type(None)}


def _check_nesting(data: Any) -> None:
    """Refuse objects and lists nested deeper than MAX_DEPTH (iteratively: no recursion here)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SpecError(f"not valid JSON: nested too deeply (more than {MAX_DEPTH} levels)")
        items = value.values() if type(value) is dict else value
        kinds = set(map(type, items))  # at C speed: most lists hold no containers at all
        if dict in kinds or list in kinds:
            stack.extend([(v, depth + 1) for v in items if type(v) in (dict, list)])


def from_dict(data: Any) -> Project:
    """Build a Project from a parsed document, checking its structure and every parameter.

    Graph-level checks (references, cycles, shapes, dataset fit) are in ``engine.spec.graph``.
    """
    if not isinstance(data, dict):
        raise SpecError("a project file must hold a JSON object")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise SpecError(
            f"unknown format version {fmt!r}; this TwinTrain reads '{FORMAT}'"
            if fmt is not None
            else f"missing 'format' (expected '{FORMAT}')",
            field="format",
        )
    for key in data:
        if not (isinstance(key, str) and key.startswith("x-")) and key not in TOP_KEYS:
            raise SpecError(f"unknown key '{key}'{closest(str(key), TOP_KEYS)}", field=str(key))
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise SpecError("expected a text", field=key)
        if key in data and len(data[key]) > 10_000:
            raise SpecError("text is too long (at most 10000 characters)", field=key)
    model = data.get("model")
    if not isinstance(model, dict):
        raise SpecError("'model' is required and must be an object", field="model")
    for key in model:
        if not key.startswith("x-") and key not in ("input", "layers", "output"):
            raise SpecError(
                f"unknown key '{key}'{closest(key, ('input', 'layers', 'output'))}",
                field=f"model.{key}",
            )
    inp = model.get("input")
    if not isinstance(inp, dict) or "shape" not in inp:
        raise SpecError(
            "'model.input' must be an object with a 'shape', e.g. {\"shape\": [8, 8, 1]}",
            field="model.input",
        )
    for key in inp:
        if not key.startswith("x-") and key != "shape":
            raise SpecError(f"unknown key '{key}'", field=f"model.input.{key}")

    def shape_fail(msg: str) -> SpecError:
        return SpecError(msg, field="model.input.shape")

    check_shape(inp["shape"], shape_fail)
    raw_layers = model.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise SpecError("'model.layers' must be a non-empty list", field="model.layers")
    if len(raw_layers) > MAX_LAYERS:
        raise SpecError(
            f"{len(raw_layers)} layers is more than TwinTrain handles ({MAX_LAYERS})",
            field="model.layers",
        )
    layers = [_parse_layer(raw, i) for i, raw in enumerate(raw_layers)]
    seen: set[str] = set()
    for layer in layers:
        if layer.id in seen:
            raise SpecError(f"duplicate id '{layer.id}'", layer=layer.id, field="id")
        seen.add(layer.id)
    output = model.get("output")
    if output is not None and (not isinstance(output, str) or output not in seen):
        raise SpecError(
            f"output {output!r} names no layer{closest(str(output), seen)}", field="model.output"
        )
    layout = data.get("layout")
    if layout is not None and not isinstance(layout, dict):
        raise SpecError("expected an object of id: [x, y]", field="layout")
    training = data.get("training")
    if training is None:
        raise SpecError("'training' is required", field="training")
    validate_training(training)
    return Project(
        input_shape=list(inp["shape"]),
        layers=layers,
        training=_copy_json(training),
        name=data.get("name", "untitled"),
        description=data.get("description", ""),
        output=output,
        layout=_copy_json(layout),
        extras=_copy_json(_xkeys(data)),
        model_extras=_copy_json(_xkeys(model)),
        input_extras=_copy_json(_xkeys(inp)),
        has_name="name" in data,
        has_description="description" in data,
    )


def _parse_layer(raw: Any, index: int) -> Layer:
    where = f"model.layers[{index}]"
    if not isinstance(raw, dict):
        raise SpecError("each layer must be an object with 'id' and 'type'", field=where)
    lid = raw.get("id")
    if not isinstance(lid, str) or len(lid) > MAX_ID_LENGTH or not ID_PATTERN.match(lid):
        shown = repr(lid)[:40]
        raise SpecError(
            f"id {shown} must match [A-Za-z_][A-Za-z0-9_]* (at most {MAX_ID_LENGTH} characters)",
            field=f"{where}.id",
        )
    if lid == INPUT_ID:
        raise SpecError(
            "'input' is reserved for the model's input; pick another id", layer=lid, field="id"
        )
    ltype = raw.get("type")
    if not isinstance(ltype, str) or ltype not in LAYER_TYPES:
        hint = closest(ltype, LAYER_TYPES) if isinstance(ltype, str) else ""
        raise SpecError(f"unknown layer type {ltype!r}{hint}", layer=lid, field="type")
    lt = LAYER_TYPES[ltype]
    params: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    inputs = None
    for key, value in raw.items():
        if key in ("id", "type"):
            continue
        if key.startswith("x-"):
            extras[key] = value
        elif key == "inputs":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) for v in value)
            ):
                raise SpecError("expected a non-empty list of layer ids", layer=lid, field="inputs")
            inputs = list(value)
        else:
            p = lt.param(key)
            if p is None:
                names = [q.name for q in lt.params]
                known = (
                    f"; {ltype} takes {', '.join(names)}"
                    if names
                    else f"; {ltype} takes no parameters"
                )
                raise SpecError(
                    f"unknown parameter '{key}'{closest(key, names)}{known}", layer=lid, field=key
                )
            p.validate(value, layer=lid)
            params[key] = value
    for p in lt.params:
        if p.required and p.name not in params:
            raise SpecError(f"'{p.name}' is required for {ltype}", layer=lid, field=p.name)
    n_in = len(inputs) if inputs is not None else 1
    if n_in < lt.min_inputs:
        raise SpecError(
            f"{ltype} needs at least {lt.min_inputs} inputs, got {n_in}", layer=lid, field="inputs"
        )
    if n_in > lt.max_inputs:
        raise SpecError(
            f"{ltype} takes "
            f"{'one input' if lt.max_inputs == 1 else f'at most {lt.max_inputs} inputs'}, "
            f"got {n_in}",
            layer=lid,
            field="inputs",
        )
    return Layer(lid, ltype, params, inputs, extras)


def read_project(path: str | os.PathLike) -> Project:
    """Load, parse and structurally validate a project file; errors name the file."""
    p = Path(path)
    try:
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise SpecError(f"cannot read the file ({exc.strerror or exc})") from None
        if p.is_dir():
            raise SpecError("is a folder, not a project file")
        if not p.is_file():  # a FIFO or a device (/dev/zero) would block or never end
            raise SpecError("is not a regular file")
        if size > MAX_FILE_BYTES:
            raise SpecError(
                f"file is {size >> 20} MiB; project files are at most {MAX_FILE_BYTES >> 20} MiB"
            )
        try:
            raw = _read_at_most(p, MAX_FILE_BYTES + 1)  # the file may have grown since the stat
        except OSError as exc:
            raise SpecError(f"cannot read the file ({exc.strerror or exc})") from None
        if len(raw) > MAX_FILE_BYTES:
            raise SpecError(
                f"file is over {MAX_FILE_BYTES >> 20} MiB; "
                f"project files are at most {MAX_FILE_BYTES >> 20} MiB"
            )
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpecError(f"not UTF-8 text (bad byte at offset {exc.start})") from None
        project = from_dict(parse_text(text))
    except SpecError as exc:
        raise exc.with_file(str(p)) from None
    project.path = p.resolve()
    return project


def _read_at_most(path: Path, limit: int) -> bytes:
    """Up to ``limit`` bytes, read in chunks (read(limit) would allocate all of it up front)."""
    chunks, total = [], 0
    with open(path, "rb") as fh:
        while total < limit and (chunk := fh.read(min(1 << 20, limit - total))):
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks)


def write_atomic(path: str | os.PathLike, text: str | bytes) -> None:
    """Write text (or bytes) so the file is either the old one or the complete new one, never
    half."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would have.
        try:
            mode = target.stat().st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        # One handle type for both modes, so write() takes the str or the bytes.
        fh: IO[Any] = (
            os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8")
        )
        with fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sweep_stale_temps(target)


STALE_TEMP_S = 600.0  # far longer than any save takes, so a concurrent writer's file is never taken


def _sweep_stale_temps(target: Path) -> None:
    """Remove what an earlier save of this file left when its process was killed mid-write:
    temp files of this name, untouched for STALE_TEMP_S."""
    now = time.time()
    with contextlib.suppress(OSError):
        for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime > STALE_TEMP_S:
                    leftover.unlink()


def _umask() -> int:
    """The process umask, read without changing it for other threads (Linux), else 022."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def save_project(project: Project, path: str | os.PathLike) -> None:
    write_atomic(path, project.to_json())
    project.path = Path(path).resolve()
