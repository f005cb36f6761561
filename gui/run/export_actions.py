"""Export Model… and Export Code… for the project in the editor.

Models are written by `twintrain export` in a separate process (each framework then runs in
its own worker, as always), fed the project on stdin, so the window stays responsive and
never imports a framework. Code is generated in-process: it is plain text from the spec.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.child_process import child_cwd, relaunch_command
from engine.export.formats import FORMATS, FRAMEWORK_FORMATS, MANIFEST
from engine.past_runs import framework_label
from engine.runtimes import RUNTIMES
from engine.style import label_of
from engine.trained_weights import available
from gui import folders
from gui.formatting import joined
from gui.tasks import Task, run_command, run_in_background

LABELS = {
    "safetensors": "PyTorch state_dict (.safetensors)",
    "pt2": "PyTorch torch.export (.pt2)",
    "torchscript": "TorchScript (.pt)",
    "onnx": "ONNX (every framework that writes it)",
    "keras": "Keras (.keras)",
    "savedmodel": "TensorFlow SavedModel",
    "tflite": "TFLite (.tflite)",
    "code": "Standalone scripts (model_torch.py, model_keras.py)",
}


def export_command() -> list[str]:
    return [*relaunch_command("engine.cli", []), "export"]


def trained_run_text(run_dir: Path) -> str:
    """'run NAME (PyTorch finished, 120 steps; TensorFlow stopped, 80 steps)' from its summary."""
    parts = []
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        for fw in available(run_dir):
            figures = summary.get("frameworks", {}).get(fw, {})
            status = figures.get("status", "trained")
            late = " (weights of its last full epoch)" if status == "stopped" else ""
            parts.append(f"{framework_label(fw)} {status}, {figures.get('steps', '?')} steps{late}")
    except (OSError, ValueError):
        pass
    return f"run {run_dir.name}" + (f" ({'; '.join(parts)})" if parts else "")


def run_frameworks(run_dir: Path) -> tuple[str, ...]:
    """The registered runtimes a run trained (its summary's columns, in its order; those that
    kept no weights are then listed as skipped by the export), else those that kept weights."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        names = [fw for fw in summary.get("frameworks") or {} if fw in RUNTIMES]
    except (OSError, ValueError, AttributeError):
        names = []
    have = available(run_dir)
    return tuple(names) or tuple(fw for fw in RUNTIMES if fw in have)


def run_project(run_dir: Path, fallback):
    """The project as the run trained it (its run folder's copy), data paths resolved against the
    project file it came from; ``fallback`` where the copy cannot be read."""
    from engine.spec import from_dict
    from engine.spec.errors import SpecError

    try:
        project = from_dict(
            json.loads((run_dir / "project.twintrain.json").read_text(encoding="utf-8"))
        )
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, SpecError):
        return fallback
    source = summary.get("project_path")
    project.path = Path(source) if source else fallback.path
    return project


class FolderRow(QWidget):
    """An output folder: typed (a new folder is fine: it is created) or picked with Browse…,
    which starts in the last folder used (gui.folders)."""

    def __init__(
        self, title: str, start: Path, placeholder: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.title, self.start = title, start
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)

    def _browse(self) -> None:
        current = self.edit.text().strip()
        start = Path(current) if current and Path(current).is_dir() else self.start
        folder = QFileDialog.getExistingDirectory(self, self.title, str(start))
        if folder:
            self.edit.setText(folder)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None


class ExportDialog(QDialog):
    """Formats as checkboxes, which weights (a finished run's trained ones, by default, or the
    matched initial ones) and an output folder."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        start: Path | None = None,
        trained_run: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Model")
        self.trained_run = trained_run
        self.boxes = {name: QCheckBox(LABELS[name]) for name in FORMATS}
        grid = QGridLayout()
        for i, name in enumerate(FORMATS):
            self.boxes[name].setChecked(True)
            grid.addWidget(self.boxes[name], i // 2, i % 2)
        self.folder_row = FolderRow(
            "Export to folder", start or folders.start_dir(), "an empty or new folder"
        )
        self.folder = self.folder_row.edit
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        self.use_trained = QRadioButton(
            f"Trained weights of the last {trained_run_text(trained_run)}"
            if trained_run
            else "Trained weights (train first)"
        )
        self.use_initial = QRadioButton(
            "Untrained initial weights (matched, drawn from the project's seed)"
        )
        group = QButtonGroup(self)
        group.addButton(self.use_trained)
        group.addButton(self.use_initial)
        self.use_trained.setEnabled(trained_run is not None)
        (self.use_trained if trained_run is not None else self.use_initial).setChecked(True)
        if trained_run is None:
            self.use_trained.setToolTip(
                "No finished run with kept weights yet: press Train, then export."
            )
        box.addWidget(QLabel("Build the network in each framework from:"))
        box.addWidget(self.use_trained)
        box.addWidget(self.use_initial)
        box.addWidget(QLabel("and write:"))
        box.addLayout(grid)
        self.missing_note = QLabel()  # a run of one framework has no weights for the other's
        self.missing_note.setWordWrap(True)
        self.missing_note.hide()
        box.addWidget(self.missing_note)
        self.use_trained.toggled.connect(self._offer_formats)
        self._offer_formats()
        box.addWidget(QLabel("Output folder:"))
        box.addWidget(self.folder_row)
        box.addWidget(buttons)

    def _offer_formats(self) -> None:
        """From a run's trained weights, only the frameworks it trained can be exported: formats
        that only the other frameworks write are unticked and disabled, and a line says why."""
        missing: list[str] = []
        if self.trained_run is not None and self.use_trained.isChecked():
            have = available(self.trained_run)
            missing = [fw for fw in FRAMEWORK_FORMATS if fw not in have]
        lacking: list[str] = []  # the untrained runtimes whose absence turns a format off
        for name, box in self.boxes.items():
            writers = [fw for fw, formats in FRAMEWORK_FORMATS.items() if name in formats]
            off = bool(writers) and all(fw in missing for fw in writers)
            if off and box.isEnabled():
                box.setChecked(False)
            elif not off and not box.isEnabled():
                box.setChecked(True)
            box.setEnabled(not off)
            names = joined([label_of(fw) for fw in writers])
            box.setToolTip(f"the run did not train {names}: no trained weights" if off else "")
            if off:
                lacking += [fw for fw in writers if fw not in lacking]
        if lacking and self.trained_run is not None:
            trained = joined([label_of(fw) for fw in available(self.trained_run)])
            self.missing_note.setText(
                f"This run trained only {trained}; "
                f"{joined([label_of(fw) for fw in lacking])} formats need its trained "
                "weights (choose the initial weights to export them)."
            )
        self.missing_note.setVisible(bool(lacking))

    def formats(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked() and box.isEnabled()]

    def weights_run(self) -> Path | None:
        """The run whose trained weights to export; None: the initial weights."""
        return (
            self.trained_run
            if self.trained_run is not None and self.use_trained.isChecked()
            else None
        )


class CodeExportDialog(QDialog):
    """Export Code…: the output folder, chosen as in Export Model (a new folder is created)."""

    def __init__(self, parent: QWidget | None = None, *, start: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Code")
        self.folder_row = FolderRow(
            "Write model_torch.py and model_keras.py to",
            start or folders.start_dir(),
            "an existing or new folder",
        )
        self.folder = self.folder_row.edit
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(
            QLabel(
                "Write model_torch.py and model_keras.py (they rebuild and train the network) to:"
            )
        )
        box.addWidget(self.folder_row)
        box.addWidget(buttons)
        self.resize(max(self.width(), 520), self.height())


class ModelExporter(QWidget):
    """Runs one export process at a time and reports its manifest."""

    finished = Signal(bool, str)  # ok, one-paragraph report

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task: Task | None = None  # the `twintrain export` process, waited for off the UI
        self.out: Path | None = None
        self.weights_text = ""

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(
        self,
        project_json: str,
        base_dir: Path | None,
        out: Path,
        formats: list[str],
        weights: Path | None = None,
        frameworks: tuple[str, ...] = (),
    ) -> None:
        """``weights``: a run folder whose trained weights to export; None: the initial weights.
        ``frameworks``: the runtimes that build and write the model; (): the CLI's default."""
        if self.busy:
            raise RuntimeError("an export is already running")
        out = out.absolute()  # the export runs in TwinTrain's own folder (engine.child_process)
        cmd = export_command() + ["-", "--out", str(out), "--formats", ",".join(formats)]
        if base_dir is not None:
            cmd += ["--base-dir", str(base_dir.absolute())]
        if weights is not None:
            cmd += ["--weights", str(weights.absolute())]
        if frameworks:
            cmd += ["--frameworks", ",".join(frameworks)]
        self.weights_text = (
            f"Weights: trained, from {trained_run_text(weights)}"
            if weights is not None
            else "Weights: untrained initial weights (matched, from the project's seed)"
        )
        self.out = out
        data, cwd = project_json.encode("utf-8"), child_cwd()
        self.task = run_in_background(
            lambda task: run_command(task, cmd, stdin=data, cwd=cwd),
            on_result=lambda done: self._done(*done),
            on_error=lambda exc, _tb: self._done(-1, f"could not run the export: {exc}"),
            parent=self,
            name="model-export",
        )

    def _done(self, code: int, stderr: str) -> None:
        self.task = None
        err = stderr.strip()
        manifest_path = self.out / MANIFEST if self.out else None
        if manifest_path is None or not manifest_path.is_file():
            reason = err.splitlines()[-1] if err else f"export failed (exit code {code})"
            self.finished.emit(
                False, f"{self.weights_text}\n{reason}" if self.weights_text else reason
            )
            return
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        lines = [self.weights_text] if self.weights_text else []
        for e in manifest["files"]:
            mark = "✓" if e["ok"] else "✗"
            diff = (
                f", max diff {e['max_abs_diff']:.1e}" if e.get("max_abs_diff") is not None else ""
            )
            lines.append(
                f"{mark} {e['framework']} {e['format']}: {e.get('file') or ''}{diff}"
                + ("" if e["ok"] else f" — {e.get('reason')}")
            )
        for fw, why in (manifest.get("skipped") or {}).items():
            lines.append(f"– {fw} skipped: {why}")
        cross = manifest.get("cross_check")
        if cross and cross.get("max_abs_diff") is not None:
            files = " vs ".join(cross.get("files") or []) or "the ONNX files"
            lines.append(f"{files}: max diff {cross['max_abs_diff']:.1e}")
        lines.append(f"Folder: {self.out}")
        self.finished.emit(bool(manifest.get("ok")), "\n".join(lines))
