"""A TensorFlow SavedModel: ``tf.saved_model.load`` and its ``serving_default`` signature, with
TensorFlow's intra- and inter-op pools set to the thread count."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.deploy.runners.base import RunnerBase, tensorflow_threads


class SavedModelRunner(RunnerBase):
    def imports(self) -> dict[str, str]:
        import os

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tensorflow_threads(self.threads)
        return {"tensorflow": str(tf.__version__)}

    def load(self) -> None:
        import tensorflow as tf

        self.loaded = tf.saved_model.load(str(self.file()))  # its variables live as long as it
        self.fn = self.loaded.signatures["serving_default"]
        kwargs = self.fn.structured_input_signature[1]
        self.input_name = next(iter(kwargs))

    def prepare(self, x: np.ndarray) -> Any:
        import tensorflow as tf

        return tf.constant(np.ascontiguousarray(x, dtype=np.float32))

    def infer(self, prepared: Any) -> np.ndarray:
        out = self.fn(**{self.input_name: prepared})
        return next(iter(out.values())).numpy()
