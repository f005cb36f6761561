"""Export the dashboard's charts: PNG (1200 x 700) and SVG of each plot with title, axis labels
and legend, and a CSV of its data. They are drawn from the run folder by engine.charts (the
code that draws the run's own charts) in a separate process: matplotlib never loads here."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.charts import EXPORT_CHARTS, export_command
from engine.child_process import child_cwd
from gui.tasks import Task, run_command, run_in_background

EXPORT_TIMEOUT_S = 120


def export_files(folder: Path) -> list[Path]:
    """What an export writes: PNG, SVG and CSV of each chart."""
    return [
        Path(folder) / f"{name}.{ext}" for name in EXPORT_CHARTS for ext in ("png", "svg", "csv")
    ]


def export_charts(
    run_dir: Path,
    folder: Path,
    timeout_s: float = EXPORT_TIMEOUT_S,
    overlays: Sequence[tuple[str, Path]] = (),
) -> list[Path]:
    """Export and wait (scripts and tests); the dashboard uses ChartExporter, which does not
    block."""
    done = subprocess.run(
        export_command(str(run_dir), str(folder), [(lb, str(f)) for lb, f in overlays]),
        cwd=child_cwd(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise RuntimeError(f"exporting the charts failed: {tail[0]}")
    return [p for p in export_files(folder) if p.is_file()]


class ChartExporter(QObject):
    """Draws the export in a short separate process, as the run folder's charts are drawn;
    the process is waited for in a background task (gui/tasks.py), never on the main thread."""

    finished = Signal(bool, str)  # ok, a line for the user

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task: Task | None = None
        self.folder: Path | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(self, run_dir: Path, folder: Path, overlays: Sequence[tuple[str, Path]] = ()) -> None:
        """``overlays``: (label, run folder) of the runs overlaid on the loss plot."""
        command = export_command(str(run_dir), str(folder), [(lb, str(f)) for lb, f in overlays])
        self.folder = Path(folder)
        self.task = run_in_background(
            lambda task: run_command(task, command, cwd=child_cwd()),
            on_result=lambda done: self._done(*done),
            on_error=self._failed,
            parent=self,
            name="chart-export",
        )

    def wait(self, ms: int = EXPORT_TIMEOUT_S * 1000) -> bool:
        """The process has exited (the ``finished`` signal follows from the event loop)."""
        return self.task is None or self.task.wait(ms / 1000)

    def _failed(self, exc: BaseException, _traceback: str) -> None:
        self.task = None
        reason = "could not start the chart process" if isinstance(exc, OSError) else exc
        self.finished.emit(False, f"Exporting the charts failed: {reason}")

    def _done(self, code: int, stderr: str) -> None:
        self.task = None
        err = stderr.strip().splitlines()
        assert self.folder is not None  # set by start()
        written = [p for p in export_files(self.folder) if p.is_file()]
        if code == 0 and written:
            self.finished.emit(True, f"Exported {len(written)} files to {self.folder}")
        else:
            self.finished.emit(
                False, f"Exporting the charts failed: {err[-1] if err else f'exit code {code}'}"
            )
