"""The keras-jax runtime: the shared Keras functional model (keras_model) on Keras' JAX backend.

Imported only in its own worker process: Keras fixes its backend when it is first imported, so
``KERAS_BACKEND=jax`` must be in the environment before that. ``engine.backends.load_backend``
sets it from ``RUNTIMES['keras-jax']['env']`` before importing this module, and this module sets
it again and refuses to run when keras was already imported with another backend.

The step is the idiomatic JAX one: ``model.stateless_call`` inside a loss function
differentiated by ``jax.value_and_grad``, the update by ``optimizer.stateless_apply``, the whole
step one ``jax.jit`` function (mode ``jit``, the default; XLA compiles it once per batch shape,
so a smaller last batch is one more compile, counted), or the same function called without
``jax.jit`` (mode ``eager``: each operation dispatched on its own). State (trainable,
non-trainable and optimizer variables) is carried functionally as tuples of arrays (donated to
the step, so XLA updates them in place) and written back into the Keras variables only when
weights are read or the model is exported.

Threads: no XLA flag of this jaxlib limits its CPU client to one thread (measured: with
``--xla_cpu_multi_thread_eigen=false``, ``intra_op_parallelism_threads=1`` or the thunk runtime
off, the work of one jitted matmul still lands on several of its ~16 pool threads). The flag is
set anyway (it stops Eigen's own pool where the legacy runtime is used); what holds the process
to one core is the worker's CPU affinity (engine.worker._pin, ``cores``), which JAX's pool
threads inherit since they start after it.
"""

from __future__ import annotations

import inspect
import os
import sys

if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != "jax":
    raise RuntimeError("keras was imported with another backend; keras-jax needs its own process")
os.environ["KERAS_BACKEND"] = "jax"
# JAX looks for a GPU when it is first used, by default on every platform it has (slow, and noisy
# where none is): "cpu" unless the user chose, and resolve_device widens it for a run that may use
# one. Several columns share one GPU, so JAX must not take 75% of its memory at its start.
_PLATFORMS_CHOSEN = "JAX_PLATFORMS" in os.environ
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
if "--xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
    ).strip()

from typing import Any  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from engine.backends.base import Weights  # noqa: E402
from engine.backends.keras_model import (  # noqa: E402
    as_list,
    build_model,
    build_probe_model,
    correct_count,
    load_weights,
    make_loss,
    make_optimizer,
    model_output,
    node_layers,
    probe_layout,
    probe_result,
    read_weights,
)
from engine.backends.plan import make_plan  # noqa: E402
from engine.spec.project import Project  # noqa: E402

assert keras.backend.backend() == "jax", keras.backend.backend()


def _training(layer: Any) -> dict[str, bool]:
    """``training=True`` for a layer whose call takes it (Dense, Dropout, BatchNorm, RNNs), nothing
    for one that does not (Conv, pooling, Activation): ``stateless_call`` passes keywords on to
    ``call`` unfiltered, unlike ``__call__``."""
    return {"training": True} if "training" in inspect.signature(layer.call).parameters else {}


def _layer_call(layer: Any, extra: Any, merge: bool) -> Any:
    """One node's layers as a function of the layer's values and its inputs (a list for a merge
    layer, else the one)."""

    def call(tv: Any, ins: list[Any], ntv: Any) -> Any:
        y, _ = layer.stateless_call(tv, ntv, ins if merge else ins[0], **_training(layer))
        if extra is not None:
            y, _ = extra.stateless_call([], [], y, **_training(extra))
        return y

    return call


def _output_and_vjp(call: Any) -> Any:
    """``call``'s output and, by ``jax.vjp``, its gradient with respect to the trainable values
    for the output gradient ``g``, as one function to jit."""

    def both(tv: Any, ins: list[Any], ntv: Any, g: Any) -> Any:
        y, vjp = jax.vjp(lambda tv: call(tv, ins, ntv), tv)
        return y, vjp(g)

    return both


class KerasJaxBackend:
    """engine.backends.base.Backend for Keras 3 on JAX."""

    name = "keras-jax"

    def __init__(
        self, project: Project, *, device: str = "cpu", threads: int = 1, mode: str = "jit"
    ) -> None:
        if device == "cuda":  # full float32 on the GPU, as every column (not TF32, JAX's default)
            jax.config.update("jax_default_matmul_precision", "highest")
        self.project = project
        self.mode = mode
        self.plan = make_plan(project)
        self.device = device
        self.threads = threads
        self.model: keras.Model | None = None
        self.optimizer: keras.optimizers.Optimizer | None = None
        self._loss = make_loss(self.plan.loss)
        self._state: tuple | None = None  # (trainable, non-trainable, optimizer variables)
        self._stale = False  # the Keras variables lag behind self._state

    @staticmethod
    def resolve_device(requested: str) -> tuple[str, str | None]:
        widened = requested != "cpu" and not _PLATFORMS_CHOSEN
        if widened:  # before JAX's first use, which reads the setting once
            jax.config.update("jax_platforms", "cuda,cpu")
        try:
            available = bool(jax.devices("gpu"))
        except RuntimeError:  # no GPU, or its plugin failed to start: the CPU alone
            available = False
            if widened:
                jax.config.update("jax_platforms", "cpu")
        if requested == "cuda" and not available:
            raise RuntimeError("device 'cuda' was asked for but JAX sees no GPU")
        if requested == "auto":
            return ("cuda", None) if available else ("cpu", "device auto: JAX sees no GPU")
        return requested, None

    # ---- set-up --------------------------------------------------------------------------------

    def build(self, weights: Weights | None, *, optimizer_mode: str = "matched") -> None:
        # Both modes run Keras' stock optimizer (the matched formulas are Keras'); JAX's
        # gradients of an Embedding are dense, as matched mode wants, in both modes.
        keras.utils.set_random_seed(int(self.project.training.get("seed", 0)))
        model = build_model(self.plan, "keras-jax")
        if weights is not None:
            load_weights(model, weights)
        self.model = model
        self.optimizer = make_optimizer(self.plan.optimizer)
        self.optimizer.build(model.trainable_variables)
        state = (
            tuple(v.value for v in model.trainable_variables),
            tuple(v.value for v in model.non_trainable_variables),
            tuple(v.value for v in self.optimizer.variables),
        )
        self._state = jax.tree_util.tree_map(jnp.copy, state)  # the step donates its state
        self._stale = False
        loss_fn, opt, kind = self._loss, self.optimizer, self.plan.loss

        def compute_loss(tv: Any, ntv: Any, x: Any, y: Any) -> Any:
            out, ntv = model.stateless_call(tv, ntv, x, training=True)
            return loss_fn(y, out), ntv

        grad_fn = jax.value_and_grad(compute_loss, has_aux=True)

        def train(state: Any, x: Any, y: Any) -> Any:
            tv, ntv, ov = state
            (loss, ntv), grads = grad_fn(tv, ntv, x, y)
            tv, ov = opt.stateless_apply(ov, grads, tv)
            return loss, (tuple(tv), tuple(ntv), tuple(ov))

        def evaluate(tv: Any, ntv: Any, x: Any, y: Any) -> Any:
            out, _ = model.stateless_call(tv, ntv, x, training=False)
            return loss_fn(y, out), correct_count(kind, y, out)

        def forward(tv: Any, ntv: Any, x: Any, training: bool) -> Any:
            out, ntv = model.stateless_call(tv, ntv, x, training=training)
            return out, ntv

        self._train_fn = jax.jit(train, donate_argnums=0) if self.mode == "jit" else train
        self._eval_fn = jax.jit(evaluate)
        self._forward_fn = jax.jit(forward, static_argnums=3)

    def info(self) -> dict[str, Any]:
        return {
            "version": jax.__version__,
            "keras_version": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "device": self.device,
            "threads": self.threads,
            "mode": self.mode,
            "params": None if self.model is None else int(self.model.count_params()),
        }

    def compiles(self) -> int:
        """Programs XLA compiled for the step so far (one per batch shape; 0 eager)."""
        size = getattr(self._train_fn, "_cache_size", None)
        return int(size()) if size is not None else 0

    # ---- steps ---------------------------------------------------------------------------------

    def _y(self, y: np.ndarray) -> np.ndarray:
        y = self.plan.target(y)
        return y.astype(np.int32) if y.dtype == np.int64 else y  # JAX runs without x64

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        assert self._state is not None, "build() first"
        loss, self._state = self._train_fn(self._state, np.asarray(x, dtype=np.float32), self._y(y))
        self._stale = True
        return float(loss)  # blocks until the step is done

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The model output in training or inference mode (training mode updates BatchNorm)."""
        assert self._state is not None, "build() first"
        tv, ntv, ov = self._state
        out, new_ntv = self._forward_fn(tv, ntv, np.asarray(x, dtype=np.float32), training)
        if training:
            self._state, self._stale = (tv, tuple(new_ntv), ov), True
        return np.asarray(out)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, training=False)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float | None]:
        assert self._state is not None, "build() first"
        tv, ntv, _ = self._state
        total, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            xb = np.asarray(x[i : i + batch_size], dtype=np.float32)
            loss, c = self._eval_fn(tv, ntv, xb, self._y(y[i : i + batch_size]))
            total += float(loss) * len(xb)
            correct += int(c)
        n = max(len(x), 1)
        return total / n, (correct / n if self.plan.classification else None)

    # ---- state ---------------------------------------------------------------------------------

    def sync(self) -> keras.Model:
        """The Keras model with the carried state written back into its variables (before reading
        weights or exporting: ``.keras`` and ``tf_saved_model`` work from it; ONNX under JAX
        needs the jax2onnx package, not installed here)."""
        assert self.model is not None and self._state is not None, "build() first"
        assert self.optimizer is not None, "build() first"
        if self._stale:
            tv, ntv, ov = self._state
            for variables, values in (
                (self.model.trainable_variables, tv),
                (self.model.non_trainable_variables, ntv),
                (self.optimizer.variables, ov),
            ):
                for v, value in zip(variables, values, strict=True):
                    v.assign(value)
            # The step donates its input state: give it fresh buffers, not the variables' own.
            self._state = jax.tree_util.tree_map(jnp.copy, self._state)
            self._stale = False
        if not self.model._called:  # only stateless_call so far; model.export() refuses that
            self.model(np.zeros((1, *self.plan.input_shape), np.float32), training=False)
        return self.model

    def probe(self, x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
        """Per layer: output, its gradient, the weight gradients (engine.divergence), from a
        probe model apart from the trained one: ``value_and_grad`` over the weights and the
        zeros added to each output, jitted: unjitted, JAX compiles every primitive on its own
        anyway, which took a third longer here (nine presets' probes and isolations: 26 -> 21 s)."""
        model = build_probe_model(self.plan, self.get_weights())
        zeros = tuple(jnp.zeros((len(x), *n.output_shape)) for n in self.plan.nodes)
        tv = tuple(v.value for v in model.trainable_variables)
        ntv = tuple(v.value for v in model.non_trainable_variables)
        xb, yb = jnp.asarray(x, dtype=jnp.float32), self._y(y)
        loss_fn = self._loss

        def loss(tv: Any, zeros: Any, ntv: Any, xb: Any, yb: Any) -> Any:
            outs, _ = model.stateless_call(tv, ntv, [xb, *zeros], training=True)
            outs = as_list(outs)
            return loss_fn(yb, model_output(self.plan, outs)), outs

        grad_fn = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))
        (_, outs), (weight_grads, output_grads) = grad_fn(tv, zeros, ntv, xb, yb)
        return probe_result(
            self.plan,
            list(outs),
            list(output_grads),
            list(weight_grads),
            probe_layout(model, self.plan),
        )

    def isolate(
        self, inputs: dict[str, list[np.ndarray]], grads: dict[str, np.ndarray]
    ) -> dict[str, dict[str, Any]]:
        """Each layer alone, fed another column's inputs and output gradient (engine.divergence):
        its output and, by ``jax.vjp``, its weight gradients, on a probe model apart."""
        model = build_probe_model(self.plan, self.get_weights())
        out: dict[str, dict[str, Any]] = {}
        for node in self.plan.nodes:
            layer, extra, merge = node_layers(model, node)
            ins = [jnp.asarray(a) for a in inputs[node.id]]
            tv = [v.value for v in layer.trainable_variables]
            ntv = [v.value for v in layer.non_trainable_variables]

            call = _layer_call(layer, extra, merge)
            y, (g,) = jax.jit(_output_and_vjp(call))(tv, ins, ntv, jnp.asarray(grads[node.id]))
            out[node.id] = {
                "output": np.asarray(y),
                "weight_grads": {
                    v.name: np.asarray(gi) for v, gi in zip(layer.trainable_variables, g)
                },
            }
        return out

    def get_weights(self) -> Weights:
        return read_weights(self.sync(), self.plan)

    def peak_device_bytes(self) -> int | None:
        if self.device != "cuda":
            return None
        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use")
