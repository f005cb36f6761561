"""The GUI process never loads a framework: opening the window and editing leaves torch,
tensorflow and keras out of sys.modules. Run in a fresh interpreter, since other tests in this
session may import them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gui import system_info

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
from PySide6.QtCore import QPointF
from gui.app import create_app, create_window
app = create_app()
win = create_window(["digits_cnn"])
win.show()
app.processEvents()
lid = win.append_layer("Dropout")
win.doc.set_param(lid, "rate", 0.3)
win.doc.arrange()
win.act_undo.trigger()
win.scene.select_only(["conv1"])
win.inspector.form.fields["filters"].spin.setValue(12)
app.processEvents()
win.doc.undo_stack.setClean()
win.close()
print(json.dumps({"filters": win.doc.layer("conv1").params["filters"],
                  "loaded": sorted(m for m in ("torch", "tensorflow", "keras")
                                   if m in sys.modules)}))
"""


def test_window_and_edits_import_no_framework(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TWINTRAIN_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"filters": 12, "loaded": []}


def test_status_bar_shows_versions_and_devices(win):
    from importlib import metadata

    text = win.versions_label.text()
    assert text.startswith(f"PyTorch {metadata.version('torch')} · TensorFlow ")
    tf = system_info.framework_version("TensorFlow")
    assert tf and f"TensorFlow {tf}" in text
    devices = win.devices_label.text()
    assert devices.startswith(f"CPU: {system_info.cpu_cores()} cores · GPU: ")


def test_gpu_list_parsing():
    text = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1234)\nGPU 1: NVIDIA A10 (UUID: GPU-5678)\n"
    assert system_info.parse_gpu_list(text) == ["NVIDIA H100 80GB HBM3", "NVIDIA A10"]
    assert system_info.parse_gpu_list("") == []
