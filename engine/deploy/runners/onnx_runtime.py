"""An ONNX file in ONNX Runtime on the CPU: the session created from the file's bytes
(``session_s``), ``intra_op_num_threads`` and ``inter_op_num_threads`` set to the thread count."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from engine.deploy.runners.base import RunnerBase


class OnnxRunner(RunnerBase):
    def imports(self) -> dict[str, str]:
        import onnxruntime

        return {"onnxruntime": str(onnxruntime.__version__)}

    def load(self) -> None:
        self.session = make_session(self.file().read_bytes(), self.threads, self)
        self.input_name = self.session.get_inputs()[0].name

    def prepare(self, x: np.ndarray) -> Any:
        return {self.input_name: np.ascontiguousarray(x, dtype=np.float32)}

    def infer(self, prepared: Any) -> np.ndarray:
        return self.session.run(None, prepared)[0]


def make_session(model: bytes | str, threads: int, timed: RunnerBase | None = None) -> Any:
    """An InferenceSession with ``threads`` intra- and inter-op threads (the same options the
    bench's plain loop uses: bench/deploy_vs_ort.py); its creation time goes to ``timed``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    t = time.perf_counter()
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    if timed is not None:
        timed.session_s = time.perf_counter() - t
    return session
