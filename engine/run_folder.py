"""The run folder (docs/run-folder.md), written as the run goes.

metrics.csv and epochs.csv grow with every batch of events and summary.json is rewritten at
each epoch, so a crash keeps what was measured; charts and the report come at the end.
"""

from __future__ import annotations

import csv
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, SupportsFloat

from engine.events import Epoch, Event, Exports, Steps, expand_steps
from engine.session import Session
from engine.spec.errors import SpecError
from engine.spec.project import write_atomic
from engine.summary import build_summary

METRICS_HEADER = (
    "framework",
    "epoch",
    "step",
    "loss",
    "step_time_s",
    "samples_per_s",
    "rss_bytes",
    "device_bytes",
)
EPOCHS_HEADER = ("framework", "epoch", "train_loss", "val_loss", "val_accuracy", "epoch_time_s")


def run_stem(project_name: str, path: Path | None = None) -> str:
    """The leading part of a default run folder's name: the file's name, else the project's,
    reduced to letters, digits, ``.``, ``_`` and ``-`` so that a name such as ``../x`` or one
    with a slash never puts the run outside the runs folder."""
    raw = path.name.split(".")[0] if path is not None else project_name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._")[:60]
    return stem or "run"


def prepare_run_dir(out: Path, *, force: bool = False) -> Path:
    """Create the run folder; refuse a non-empty one unless forced (never delete anything)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SpecError(f"'{out}' exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SpecError(
            f"run folder '{out}' is not empty; pick another --out or pass --force to write into it"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "charts").mkdir(exist_ok=True)
    return out


LABELS_FILE = "labels.json"


def _write_labels(out: Path, project: Any) -> None:
    """``labels.json`` for a dataset with named classes (an image folder's sub-folders, a text
    CSV's labels) and, for text, the vocabulary by word id: what a model's outputs and inputs
    mean, kept with the run. A dataset that cannot be read writes nothing here; the workers
    report why."""
    from engine.spec import validate

    try:
        graph = validate(project)
    except SpecError:
        return
    ds = graph.dataset
    if ds is None or not ds.class_names:
        return
    labels: dict[str, Any] = {"dataset": ds.name, "class_names": list(ds.class_names)}
    if ds.name == "text_csv":
        from engine.data.text_csv import vocabulary
        from engine.spec.training import resolve_training

        training = resolve_training(project.training, ds.task)
        try:
            words, _ = vocabulary(training["dataset"], training["seed"], project.base_dir)
        except (OSError, ValueError, SpecError):
            return
        labels["vocabulary"] = words
    write_atomic(out / LABELS_FILE, json.dumps(labels, indent=1))


class RunRecorder:
    """A session listener that writes the run folder."""

    def __init__(self, session: Session, out: Path) -> None:
        self.session = session
        self.out = Path(out)
        self._lock = threading.Lock()
        # both stay open for the whole run (closed in close())
        self._metrics_file = open(  # noqa: SIM115
            self.out / "metrics.csv", "w", newline="", encoding="utf-8"
        )
        self._epochs_file = open(  # noqa: SIM115
            self.out / "epochs.csv", "w", newline="", encoding="utf-8"
        )
        self._metrics = csv.writer(self._metrics_file)
        self._epochs = csv.writer(self._epochs_file)
        self._metrics.writerow(METRICS_HEADER)
        self._epochs.writerow(EPOCHS_HEADER)
        self._metrics_file.flush()
        self._epochs_file.flush()
        write_atomic(self.out / "project.twintrain.json", session.project.to_json())
        _write_labels(self.out, session.project)
        if session.export:
            from engine.exporting import REQUEST

            models = Path(session.export["dir"])
            models.mkdir(parents=True, exist_ok=True)
            write_atomic(models / REQUEST, json.dumps({"formats": list(session.export["formats"])}))
        self._last_summary = 0.0
        if session.mode == "train":
            session.tensorboard_dir = os.path.abspath(
                self.out / "tb"
            )  # absolute: workers run elsewhere
        session.subscribe(self.on_event)

    def on_event(self, framework: str, event: Event) -> None:
        with self._lock:
            if self._metrics_file.closed:
                return
            if isinstance(event, Steps):
                for s in expand_steps(event):
                    rate = s["samples"] / s["step_time_s"] if s["step_time_s"] > 0 else ""
                    self._metrics.writerow(
                        (
                            framework,
                            s["epoch"],
                            s["step"],
                            repr(s["loss"]),
                            f"{s['step_time_s']:.9f}",
                            f"{rate:.1f}" if rate != "" else "",
                            s["rss_bytes"],
                            "" if s["device_bytes"] is None else s["device_bytes"],
                        )
                    )
                self._metrics_file.flush()
            elif isinstance(event, Exports) and self.session.export:
                from engine.exporting import partial_name

                path = Path(self.session.export["dir"]) / partial_name(framework)
                write_atomic(path, json.dumps(event.entries))
            elif isinstance(event, Epoch):
                self._epochs.writerow(
                    (
                        framework,
                        event.epoch,
                        _fmt(event.train_loss),
                        _fmt(event.val_loss),
                        _fmt(event.val_accuracy),
                        f"{event.epoch_time_s:.6f}",
                    )
                )
                self._epochs_file.flush()
                if time.perf_counter() - self._last_summary > 1.0:
                    self._last_summary = time.perf_counter()
                    self.write_summary()

    def write_summary(self) -> dict[str, Any]:
        summary = build_summary(self.session)
        write_atomic(self.out / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary

    def close(self) -> dict[str, Any]:
        """Close the CSV files and write the final summary (fast; no charts)."""
        with self._lock:
            self._metrics_file.close()
            self._epochs_file.close()
        return self.write_summary()

    def finish(self) -> dict[str, Any]:
        """close(), then the charts and the report, in this process (the CLI's way)."""
        summary = self.close()
        finalize(self.out)
        return summary


def finalize(out: Path) -> None:
    """Charts and report.html from a run folder's files."""
    from engine.charts import load_run, write_charts
    from engine.exporting import complete_trained
    from engine.report import write_report

    complete_trained(out)
    run = load_run(out)
    write_charts(run, Path(out) / "charts")
    _diff_where_parted(Path(out), run.summary)
    write_report(run.summary, Path(out))


def _diff_where_parted(out: Path, summary: dict[str, Any]) -> None:
    """A run whose loss curves parted gets the layer comparison of that step (divergence.json,
    shown in the report); TWINTRAIN_NO_LAYER_DIFF=1 leaves it out."""
    if os.environ.get("TWINTRAIN_NO_LAYER_DIFF") == "1":
        return
    import json

    from engine.divergence import diff_parted_run
    from engine.spec import from_dict

    project_file = out / "project.twintrain.json"
    if not project_file.is_file():
        return
    project = from_dict(json.loads(project_file.read_text(encoding="utf-8")))
    if summary.get("project_path"):
        project.path = Path(summary["project_path"])
    diff_parted_run(out, summary, project)


def finalize_command(out: str) -> list[str]:
    """The command that finalizes a run folder in a separate process (the GUI's way: matplotlib
    never loads in the GUI process, and no thread there draws charts)."""
    from engine.child_process import relaunch_command

    return [*relaunch_command("engine.run_folder", ["--twintrain-finalize"]), os.path.abspath(out)]


if __name__ == "__main__":
    import sys

    finalize(Path(sys.argv[1]))


def _fmt(value: SupportsFloat | None) -> str:
    return "" if value is None else repr(float(value))
