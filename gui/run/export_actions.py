"""Export Model… and Export Code… for the project in the editor.

Models are written by `twintrain export` in a separate process (each framework then runs in
its own worker, as always), fed the project on stdin, so the window stays responsive and
never imports a framework. Code is generated in-process: it is plain text from the spec.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QProcess, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.child_process import child_cwd, relaunch_command
from engine.export.formats import FORMATS, MANIFEST

LABELS = {
    "safetensors": "PyTorch state_dict (.safetensors)", "pt2": "PyTorch torch.export (.pt2)",
    "torchscript": "TorchScript (.pt)", "onnx": "ONNX (both frameworks)", "keras": "Keras (.keras)",
    "savedmodel": "TensorFlow SavedModel", "tflite": "TFLite (.tflite)", "code": "Standalone scripts (model_torch.py, model_keras.py)",
}


def export_command() -> list[str]:
    return [*relaunch_command("engine.cli", []), "export"]


class ExportDialog(QDialog):
    """Formats as checkboxes and an output folder."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Model")
        self.boxes = {name: QCheckBox(LABELS[name]) for name in FORMATS}
        grid = QGridLayout()
        for i, name in enumerate(FORMATS):
            self.boxes[name].setChecked(True)
            grid.addWidget(self.boxes[name], i // 2, i % 2)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("an empty or new folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(QLabel("Build the network in both frameworks from the matched initial weights and write:"))
        box.addLayout(grid)
        box.addWidget(QLabel("Output folder:"))
        box.addLayout(row)
        box.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder")
        if folder:
            self.folder.setText(folder)

    def formats(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]


class ModelExporter(QWidget):
    """Runs one export process at a time and reports its manifest."""

    finished = Signal(bool, str)  # ok, one-paragraph report

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self.out: Path | None = None

    @property
    def busy(self) -> bool:
        return self.process is not None

    def start(self, project_json: str, base_dir: Path | None, out: Path, formats: list[str]) -> None:
        if self.busy:
            raise RuntimeError("an export is already running")
        out = out.absolute()  # the export runs in TwinTrain's own folder (engine.child_process)
        cmd = export_command() + ["-", "--out", str(out), "--formats", ",".join(formats)]
        if base_dir is not None:
            cmd += ["--base-dir", str(base_dir.absolute())]
        self.out = out
        self.process = QProcess(self)
        self.process.setWorkingDirectory(child_cwd())
        self.process.finished.connect(self._done)
        self.process.start(cmd[0], cmd[1:])
        self.process.write(project_json.encode("utf-8"))
        self.process.closeWriteChannel()

    def _done(self, code: int, _status) -> None:
        proc, self.process = self.process, None
        err = bytes(proc.readAllStandardError()).decode("utf-8", "replace").strip()
        manifest_path = self.out / MANIFEST if self.out else None
        if manifest_path is None or not manifest_path.is_file():
            self.finished.emit(False, err.splitlines()[-1] if err else f"export failed (exit code {code})")
            return
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        lines = []
        for e in manifest["files"]:
            mark = "✓" if e["ok"] else "✗"
            diff = f", max diff {e['max_abs_diff']:.1e}" if e.get("max_abs_diff") is not None else ""
            lines.append(f"{mark} {e['framework']} {e['format']}: {e.get('file') or ''}{diff}"
                         + ("" if e["ok"] else f" — {e.get('reason')}"))
        cross = manifest.get("cross_check")
        if cross and cross.get("max_abs_diff") is not None:
            lines.append(f"torch.onnx vs tensorflow.onnx: max diff {cross['max_abs_diff']:.1e}")
        lines.append(f"Folder: {self.out}")
        self.finished.emit(bool(manifest.get("ok")), "\n".join(lines))

