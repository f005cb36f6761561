"""An ONNX file in OpenVINO (optional: used where the ``openvino`` package is installed, the row
is skipped otherwise): ``Core.read_model`` and ``compile_model`` on the CPU with
``INFERENCE_NUM_THREADS`` set to the thread count (``session_s``: the compilation)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from engine.deploy.runners.base import RunnerBase


class OpenVinoRunner(RunnerBase):
    def imports(self) -> dict[str, str]:
        import openvino

        return {"openvino": str(openvino.__version__)}

    def load(self) -> None:
        import openvino

        core = openvino.Core()
        model = core.read_model(str(self.file()))
        t = time.perf_counter()
        self.compiled = core.compile_model(
            model,
            "CPU",
            {
                "INFERENCE_NUM_THREADS": self.threads,
                "NUM_STREAMS": 1,
                "INFERENCE_PRECISION_HINT": "f32",
            },
        )
        self.session_s = time.perf_counter() - t
        self.request = self.compiled.create_infer_request()

    def prepare(self, x: np.ndarray) -> Any:
        return np.ascontiguousarray(x, dtype=np.float32)

    def infer(self, prepared: Any) -> np.ndarray:
        return np.array(self.request.infer([prepared])[0])
