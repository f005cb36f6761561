"""A TFLite file in the LiteRT interpreter (``ai_edge_litert``) where that package is installed,
else TensorFlow's ``tf.lite.Interpreter``; ``num_threads`` is the thread count, the input is
resized to each batch size (untimed) and the interpreter created from the file's bytes
(``session_s``: creation and tensor allocation)."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from engine.deploy.runners.base import RunnerBase


class TFLiteRunner(RunnerBase):
    def imports(self) -> dict[str, str]:
        try:
            import ai_edge_litert
            from ai_edge_litert.interpreter import Interpreter

            self.interpreter_cls: Any = Interpreter
            return {"ai_edge_litert": str(getattr(ai_edge_litert, "__version__", "unknown"))}
        except ImportError:
            pass
        import tensorflow as tf

        self.interpreter_cls = tf.lite.Interpreter
        return {"tensorflow": str(tf.__version__)}

    def load(self) -> None:
        blob = self.file().read_bytes()
        t = time.perf_counter()
        with warnings.catch_warnings():  # tf.lite.Interpreter announces its move to LiteRT
            warnings.simplefilter("ignore")
            self.interpreter = self.interpreter_cls(model_content=blob, num_threads=self.threads)
        self.interpreter.allocate_tensors()
        self.session_s = time.perf_counter() - t
        self.input = self.interpreter.get_input_details()[0]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self.shape: tuple[int, ...] | None = None

    def prepare(self, x: np.ndarray) -> Any:
        if self.shape != x.shape:
            self.interpreter.resize_tensor_input(self.input["index"], list(x.shape), strict=False)
            self.interpreter.allocate_tensors()
            self.shape = x.shape
        return np.ascontiguousarray(x, dtype=self.input["dtype"])

    def infer(self, prepared: Any) -> np.ndarray:
        if self.shape != prepared.shape:  # another batch size ran since it was prepared
            self.prepare(prepared)
        self.interpreter.set_tensor(self.input["index"], prepared)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self.output_index))
