"""The one registry of runtimes: every column TwinTrain can train, and everything about it.

A runtime is a framework as one worker process runs it: native PyTorch, TensorFlow with Keras,
and Keras 3 on JAX or on PyTorch (Keras fixes its backend at its first import, so each Keras
backend needs a process of its own). Every list of frameworks in the engine, the CLI, the GUI,
the report, the self-test and packaging is read from ``RUNTIMES``; a test greps the tree for
inline tuples of runtime names outside this module.

Pure data plus ``importlib.metadata``: importing this module imports no framework, so the GUI
process can ask what is installed without paying for (or being polluted by) an import.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.spec.errors import SpecError, closest

# A column is a runtime plus an execution mode, written RUNTIME[:MODE] ("torch:compile"); the
# runtime's default mode is written without the suffix, so old runs and scripts keep their names.
MODE_SEP = ":"
# Not a mode of its own: a short probe of every mode of the runtime picks the fastest one.
FASTEST = "fastest"


@dataclass(frozen=True)
class Mode:
    """One way a runtime executes its training step.

    ``compiles``: its first steps trace or compile (shown as compile time, with a break-even
    against the runtime's default mode); ``cuda_only``: offered only on a GPU; ``summary``: what
    it is, for tooltips, the README and the summary."""

    id: str
    summary: str
    compiles: bool = False
    cuda_only: bool = False


@dataclass(frozen=True)
class Runtime:
    """One column a run can train.

    ``packages``: distribution names that must be installed (checked with package metadata);
    ``extra``: the optional dependency group that installs them (``pip install "twintrain[X]"``);
    ``env``: set in the worker before the backend module is imported (``KERAS_BACKEND`` must be
    there before ``keras`` is); ``backend``: ``module:Class`` of its
    ``engine.backends.base.Backend``;
    ``preload``: modules a first build or step would import lazily, imported up front so a
    worker's import time is paid and measured in one place; ``exports``: the export formats its
    worker writes (``engine.export.formats``); ``no_export``: formats it cannot write, with why
    (listed in ``exports.json``); ``keras_backend``: the Keras backend it runs, or None;
    ``exporter``: ``module:function`` that writes its ``exports`` in its worker; ``code_file``:
    the standalone script ``code`` writes for it (None: it shares another's); ``param_count``:
    whose parameter counting it reports (``torch`` keeps LSTM's second bias and BatchNorm's
    statistics apart; ``keras`` counts every weight); ``short``: a label for tight places;
    ``modes``: its execution modes, the default first; ``framework``: the top-level module of
    the framework that computes its steps (its worker keeps every other runtime's out:
    ``engine.backends.keep_out``).
    """

    id: str
    label: str
    colour: str
    packages: tuple[str, ...]
    extra: str
    backend: str
    env: Mapping[str, str] = field(default_factory=dict)
    preload: tuple[str, ...] = ()
    exports: tuple[str, ...] = ()
    no_export: Mapping[str, str] = field(default_factory=dict)
    keras_backend: str | None = None
    summary: str = ""  # one line for tooltips and the README: what this column measures
    exporter: str = ""
    code_file: str | None = None
    param_count: str = "keras"
    short: str = ""
    modes: tuple[Mode, ...] = (Mode("eager", "each operation runs as Python calls it"),)
    framework: str = ""

    @property
    def default_mode(self) -> str:
        return self.modes[0].id

    def mode(self, name: str) -> Mode:
        """The mode ``name``; an unknown one raises SpecError naming the modes it has."""
        for m in self.modes:
            if m.id == name:
                return m
        known = [m.id for m in self.modes]
        raise SpecError(
            f"{self.label} has no mode '{name}'{closest(name, (*known, FASTEST))}; "
            f"its modes: {self.modes_text()}, or {FASTEST}",
            field="frameworks",
        )

    def modes_text(self) -> str:
        return ", ".join(m.id + (" (GPU only)" if m.cuda_only else "") for m in self.modes)

    def install_command(self) -> str:
        return f'pip install "twintrain[{self.extra}]"'


RUNTIMES: dict[str, Runtime] = {
    r.id: r
    for r in (
        Runtime(
            id="torch",
            framework="torch",
            label="PyTorch",
            colour="#E4572E",
            packages=("torch",),
            extra="cpu",
            backend="engine.backends.torch_backend:TorchBackend",
            preload=("torch._dynamo",),
            exports=("safetensors", "pt2", "torchscript", "onnx"),
            summary="plain PyTorch: nn.Module layers, a hand-written training step, eager",
            exporter="engine.export.torch_export:export_torch",
            code_file="model_torch.py",
            param_count="torch",
            short="PyTorch",
            modes=(
                Mode("eager", "eager: each operation runs as Python calls it"),
                Mode(
                    "compile",
                    "torch.compile (Inductor, default mode) of the forward pass and loss; "
                    "backward through the compiled graph, the update eager",
                    compiles=True,
                ),
                Mode(
                    "compile-max",
                    "torch.compile with mode max-autotune (max-autotune-no-cudagraphs on a "
                    "CPU): longer compile, tuned kernels",
                    compiles=True,
                ),
                Mode(
                    "reduce-overhead",
                    "torch.compile with mode reduce-overhead: CUDA graphs replay the step",
                    compiles=True,
                    cuda_only=True,
                ),
            ),
        ),
        Runtime(
            id="tensorflow",
            framework="tensorflow",
            label="TensorFlow/Keras",
            colour="#2E86AB",
            packages=("tensorflow-cpu|tensorflow", "keras"),
            extra="cpu",
            backend="engine.backends.tf_backend:TFBackend",
            env={"KERAS_BACKEND": "tensorflow"},
            preload=("keras.optimizers",),
            exports=("keras", "savedmodel", "tflite", "onnx"),
            keras_backend="tensorflow",
            summary="Keras 3 layers on TensorFlow: a tf.function step under a GradientTape",
            exporter="engine.export.tf_export:export_tf",
            code_file="model_keras.py",
            short="TF",
            modes=(
                Mode(
                    "graph",
                    "tf.function: the step traced once into a graph (batch axis left open, so "
                    "the last smaller batch does not retrace)",
                    compiles=True,
                ),
                Mode("eager", "eager: no tf.function, each operation dispatched from Python"),
                Mode(
                    "xla",
                    "tf.function(jit_compile=True): XLA compiles the step, once per batch shape",
                    compiles=True,
                ),
            ),
        ),
        Runtime(
            id="keras-jax",
            framework="jax",
            label="Keras on JAX",
            colour="#3BB273",
            packages=("jax", "jaxlib", "keras"),
            extra="jax",
            backend="engine.backends.keras_jax_backend:KerasJaxBackend",
            env={"KERAS_BACKEND": "jax"},
            preload=("keras.optimizers",),
            exports=("keras",),
            no_export={
                "onnx": "Keras exports ONNX under JAX only through jax2onnx (not installed)"
            },
            keras_backend="jax",
            summary="the same Keras model on JAX: stateless_call under value_and_grad, jax.jit",
            exporter="engine.export.keras_export:export_keras",
            short="Keras/JAX",
            modes=(
                Mode("jit", "jax.jit: XLA compiles the step, once per batch shape", compiles=True),
                Mode("eager", "eager: the same step with jax.jit disabled, op by op"),
            ),
        ),
        Runtime(
            id="keras-torch",
            framework="torch",
            label="Keras on PyTorch",
            colour="#7768AE",
            packages=("torch", "keras"),
            extra="cpu",
            backend="engine.backends.keras_torch_backend:KerasTorchBackend",
            env={"KERAS_BACKEND": "torch"},
            preload=("keras.optimizers",),
            exports=("keras", "onnx"),
            keras_backend="torch",
            summary="the same Keras model on PyTorch: torch autograd and Keras' optimizer, eager",
            exporter="engine.export.keras_export:export_keras",
            short="Keras/torch",
            modes=(
                Mode("eager", "eager: Keras layers call torch operations as Python runs them"),
                Mode(
                    "compile",
                    "torch.compile of the Keras model's forward pass and loss (what Keras' "
                    "jit_compile does on torch); the update eager",
                    compiles=True,
                ),
            ),
        ),
    )
}

# The columns a run trains when none are chosen: today's two, so old projects and scripts keep
# their meaning.
DEFAULT_RUNTIMES: tuple[str, ...] = tuple(RUNTIMES)[:2]
# Columns beyond the registered ones (compiled modes...) get the next of these colours.
EXTRA_COLOURS = ("#E1BC29", "#8C564B", "#17BECF", "#D62728", "#9467BD", "#2CA02C")


def split_column(column: str) -> tuple[str, str]:
    """'torch:compile' -> ('torch', 'compile'); 'torch' -> ('torch', its default mode)."""
    name, _, mode = column.partition(MODE_SEP)
    rt = runtime(name)
    return rt.id, mode or rt.default_mode


def column_id(runtime_id: str, mode: str | None = None) -> str:
    """The canonical column name: the runtime's id alone for its default mode."""
    rt = runtime(runtime_id)
    if mode is None or mode == rt.default_mode:
        return rt.id
    return f"{rt.id}{MODE_SEP}{mode}"


def mode_of(column: str) -> Mode:
    name, mode = split_column(column)
    return RUNTIMES[name].mode(mode)


def file_stem(column: str) -> str:
    """A column's name in file names (':' is not allowed in Windows paths): 'torch_compile'."""
    return column.replace(MODE_SEP, "_")


def all_columns() -> tuple[str, ...]:
    """Every runtime in every mode, in registry order: the order columns are listed in."""
    return tuple(column_id(r.id, m.id) for r in RUNTIMES.values() for m in r.modes)


def runtime(name: str) -> Runtime:
    """The registered runtime of ``name`` (a runtime id, or a column ``RUNTIME:MODE``); an unknown
    name raises SpecError naming the closest."""
    name = name.partition(MODE_SEP)[0]
    try:
        return RUNTIMES[name]
    except KeyError:
        raise SpecError(
            f"unknown framework '{name}'{closest(name, tuple(RUNTIMES))}; "
            f"known: {', '.join(RUNTIMES)}",
            field="frameworks",
        ) from None


def parse_column(name: str, fastest: bool = False) -> str:
    """'torch:compile' -> its canonical column name; an unknown runtime or mode raises SpecError
    naming what it has. ``fastest``: also accept RUNTIME:fastest (resolved by a probe)."""
    rt_name, sep, mode = name.strip().lower().partition(MODE_SEP)
    rt = runtime(rt_name)
    if sep and not mode:
        raise SpecError(
            f"'{name.strip()}' names no mode; {rt.label}'s modes: {rt.modes_text()}, or {FASTEST}",
            field="frameworks",
        )
    if mode == FASTEST:
        if not fastest:
            raise SpecError(f"'{name.strip()}': {FASTEST} is not allowed here", field="frameworks")
        return f"{rt.id}{MODE_SEP}{FASTEST}"
    return column_id(rt.id, rt.mode(mode).id if mode else None)


def parse_runtimes(value: str | Iterable[str], fastest: bool = False) -> tuple[str, ...]:
    """'torch,torch:compile,keras-jax' (or a list) -> canonical column names in the order given,
    without repeats ('torch:eager' is 'torch')."""
    items = [value] if isinstance(value, str) else list(value)
    names = [n.strip() for item in items for n in str(item).split(",") if n.strip()]
    if not names:
        raise SpecError(f"no framework given; known: {', '.join(RUNTIMES)}", field="frameworks")
    return tuple(dict.fromkeys(parse_column(n, fastest) for n in names))


def _installed(dist: str) -> bool:
    """``a|b``: either distribution will do (tensorflow-cpu or tensorflow)."""
    for name in dist.split("|"):
        try:
            importlib.metadata.version(name)
            return True
        except importlib.metadata.PackageNotFoundError:
            continue
    return False


def missing_packages(name: str) -> list[str]:
    """The packages ``name`` needs that are not installed (package metadata; imports nothing)."""
    return [d.split("|")[0] for d in runtime(name).packages if not _installed(d)]


def unavailable_reason(name: str) -> str | None:
    """Why ``name`` cannot run on this machine, with the command that fixes it; None if it can."""
    missing = missing_packages(name)
    if not missing:
        return None
    rt = runtime(name)
    from engine.child_process import is_frozen

    if is_frozen():  # the packaged app cannot install a package: say it is not in this build
        return (
            f"{rt.label} is not included in this packaged app (it needs {', '.join(missing)}); "
            f"run TwinTrain from source with {rt.install_command()} to train it"
        )
    return (
        f"{rt.label} needs {', '.join(missing)}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed; install with: "
        f"{rt.install_command()}"
    )


def installed_runtimes() -> tuple[str, ...]:
    return tuple(r for r in RUNTIMES if not missing_packages(r))


def _shade(colour: str, towards: int, amount: float) -> str:
    """``colour`` mixed with black (towards=0) or white (255) by ``amount``."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (towards - c) * amount):02X}" for c in rgb)


# A non-default mode's colour: its runtime's hue, darker or lighter by the mode's place.
_MODE_SHADES = ((0, 0.38), (255, 0.45), (0, 0.62), (255, 0.7))


def colour_of(column: str) -> str:
    """A column's colour: its runtime's for the default mode, a shade of it for another mode,
    else a stable pick from EXTRA_COLOURS."""
    name, _, mode = column.partition(MODE_SEP)
    rt = RUNTIMES.get(name)
    if rt is None:
        return EXTRA_COLOURS[sum(map(ord, column)) % len(EXTRA_COLOURS)]
    ids = [m.id for m in rt.modes]
    if not mode or mode == rt.default_mode:
        return rt.colour
    place = ids.index(mode) - 1 if mode in ids else len(ids)
    towards, amount = _MODE_SHADES[place % len(_MODE_SHADES)]
    return _shade(rt.colour, towards, amount)


def label_of(column: str) -> str:
    """'PyTorch' for the default mode, 'PyTorch (compile)' for another."""
    name, _, mode = column.partition(MODE_SEP)
    rt = RUNTIMES.get(name)
    if rt is None:
        return column
    return rt.label if not mode or mode == rt.default_mode else f"{rt.label} ({mode})"
