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
    statistics apart; ``keras`` counts every weight); ``short``: a label for tight places.
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

    def install_command(self) -> str:
        return f'pip install "twintrain[{self.extra}]"'


RUNTIMES: dict[str, Runtime] = {
    r.id: r
    for r in (
        Runtime(
            id="torch",
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
        ),
        Runtime(
            id="tensorflow",
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
        ),
        Runtime(
            id="keras-jax",
            label="Keras on JAX",
            colour="#3BB273",
            packages=("jax", "jaxlib", "keras"),
            extra="jax",
            backend="engine.backends.keras_jax_backend:KerasJaxBackend",
            env={"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"},
            preload=("keras.optimizers",),
            exports=("keras",),
            no_export={
                "onnx": "Keras exports ONNX under JAX only through jax2onnx (not installed)"
            },
            keras_backend="jax",
            summary="the same Keras model on JAX: stateless_call under value_and_grad, jax.jit",
            exporter="engine.export.keras_export:export_keras",
            short="Keras/JAX",
        ),
        Runtime(
            id="keras-torch",
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
        ),
    )
}

# The columns a run trains when none are chosen: today's two, so old projects and scripts keep
# their meaning.
DEFAULT_RUNTIMES: tuple[str, ...] = tuple(RUNTIMES)[:2]
# Columns beyond the registered ones (compiled modes...) get the next of these colours.
EXTRA_COLOURS = ("#E1BC29", "#8C564B", "#17BECF", "#D62728", "#9467BD", "#2CA02C")


def runtime(name: str) -> Runtime:
    """The registered runtime ``name``; an unknown name raises SpecError naming the closest."""
    try:
        return RUNTIMES[name]
    except KeyError:
        raise SpecError(
            f"unknown framework '{name}'{closest(name, tuple(RUNTIMES))}; "
            f"known: {', '.join(RUNTIMES)}",
            field="frameworks",
        ) from None


def parse_runtimes(value: str | Iterable[str]) -> tuple[str, ...]:
    """'torch,keras-jax' (or a list) -> registered ids in the order given, without repeats."""
    items = [value] if isinstance(value, str) else list(value)
    names = [n.strip().lower() for item in items for n in str(item).split(",") if n.strip()]
    if not names:
        raise SpecError(f"no framework given; known: {', '.join(RUNTIMES)}", field="frameworks")
    return tuple(dict.fromkeys(runtime(n).id for n in names))


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


def colour_of(column: str) -> str:
    """A column's colour: its runtime's, else a stable pick from EXTRA_COLOURS."""
    rt = RUNTIMES.get(column)
    if rt is not None:
        return rt.colour
    return EXTRA_COLOURS[sum(map(ord, column)) % len(EXTRA_COLOURS)]


def label_of(column: str) -> str:
    rt = RUNTIMES.get(column)
    return rt.label if rt is not None else column
