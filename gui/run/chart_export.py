"""Export the dashboard's charts: PNG (1200 x 700) and SVG of each plot with title, axis labels
and legend, and a CSV of its data. They are drawn from the run folder by engine.charts (the
code that draws the run's own charts) in a separate process: matplotlib never loads here."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

from engine.charts import EXPORT_CHARTS, export_command
from engine.child_process import child_cwd

EXPORT_TIMEOUT_S = 120


def export_files(folder: Path) -> list[Path]:
    """What an export writes: PNG, SVG and CSV of each chart."""
    return [
        Path(folder) / f"{name}.{ext}" for name in EXPORT_CHARTS for ext in ("png", "svg", "csv")
    ]


def export_charts(run_dir: Path, folder: Path, timeout_s: float = EXPORT_TIMEOUT_S) -> list[Path]:
    """Export and wait (scripts and tests); the dashboard uses ChartExporter, which does not block."""
    done = subprocess.run(
        export_command(str(run_dir), str(folder)),
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
    """Draws the export in a short separate process, as the run folder's charts are drawn."""

    finished = Signal(bool, str)  # ok, a line for the user

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self.folder: Path | None = None

    @property
    def busy(self) -> bool:
        return self.process is not None

    def start(self, run_dir: Path, folder: Path) -> None:
        command = export_command(str(run_dir), str(folder))
        self.folder = Path(folder)
        self.process = process = QProcess(self)
        process.setWorkingDirectory(child_cwd())
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.finished.connect(self._done)
        process.errorOccurred.connect(self._failed_to_start)
        process.start(command[0], command[1:])

    def wait(self, ms: int = EXPORT_TIMEOUT_S * 1000) -> bool:
        return self.process is None or self.process.waitForFinished(ms)

    def _failed_to_start(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            self.process = None
            self.finished.emit(
                False, "Exporting the charts failed: could not start the chart process"
            )

    def _done(self, code: int, _status) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        err = (
            bytes(process.readAllStandardError().data())
            .decode("utf-8", "replace")
            .strip()
            .splitlines()
        )
        process.deleteLater()
        written = [p for p in export_files(self.folder) if p.is_file()]
        if code == 0 and written:
            self.finished.emit(True, f"Exported {len(written)} files to {self.folder}")
        else:
            self.finished.emit(
                False, f"Exporting the charts failed: {err[-1] if err else f'exit code {code}'}"
            )
