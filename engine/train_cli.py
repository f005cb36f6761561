"""`twintrain train`: a headless run with a progress bar per framework and a run folder."""

from __future__ import annotations

import argparse
import math
import queue
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from engine.events import Epoch, Event, Status, Steps
from engine.presets import load_project_arg
from engine.run_folder import RunRecorder, prepare_run_dir, run_stem
from engine.run_options import RunOptions, RunOptionsError
from engine.session import Session
from engine.spec import validate
from engine.spec.training import resolve_training
from engine.style import label_of
from engine.trained_weights import WEIGHTS_DIR


def train_command(args: argparse.Namespace) -> int:
    try:
        options = RunOptions.from_args(args)  # every flag checked before anything starts
    except RunOptionsError as exc:
        if exc.option != "frameworks":
            raise
        # An unknown or uninstalled runtime is a usage error (exit 2), like a mistyped command.
        print(f"twintrain train: {exc}", file=sys.stderr)
        return 2
    project = load_project_arg(args.file)
    if options.epochs is not None:
        project.training["epochs"] = options.epochs
    graph = validate(project)
    frameworks, probes = _resolve_fastest(project, options)
    options = replace(options, frameworks=frameworks)
    stem = run_stem(project.name, project.path)
    out = Path(args.out) if args.out else Path("runs") / f"{stem}-{datetime.now():%Y%m%d-%H%M%S}"
    out = prepare_run_dir(out, force=args.force)
    training = resolve_training(project.training, graph.dataset.task if graph.dataset else None)
    assert graph.dataset is not None  # validate() described the dataset
    n_train = graph.dataset.n_samples - round(
        graph.dataset.n_samples * training["dataset"]["validation_split"]
    )
    total = training["epochs"] * math.ceil(n_train / training["batch_size"])

    export_dir = None
    if options.export_formats:
        (out / "models").mkdir(exist_ok=True)
        export_dir = (out / "models").resolve()
    session = Session(project, **options.session_kwargs(export_dir), save_weights=out / WEIGHTS_DIR)
    session.fastest = probes
    recorder = RunRecorder(session, out)
    events: queue.Queue = queue.Queue()
    session.subscribe(lambda fw, ev: events.put((fw, ev)))
    progress = _Progress(frameworks, total, training["epochs"], quiet=args.quiet)
    print(
        f"Training '{project.name}' in {', '.join(label_of(f) for f in frameworks)} "
        f"({session.schedule}, init {session.init}); run folder {out}",
        file=sys.stderr,
    )
    session.start()
    interrupted = False
    try:
        while not session.finished or not events.empty():
            try:
                fw, ev = events.get(timeout=0.1)
            except queue.Empty:
                continue
            progress.update(fw, ev)
    except KeyboardInterrupt:
        interrupted = True
        session.stop()
        session.wait(10)
    finally:
        progress.close()
        session.close()
    summary = recorder.finish()
    _print_result(
        summary, out, as_json=getattr(args, "json", False), exported=bool(options.export_formats)
    )
    if interrupted:
        return 130
    return 1 if any("error" in f for f in summary["frameworks"].values()) else 0


def _resolve_fastest(
    project: Any, options: RunOptions
) -> tuple[tuple[str, ...], dict[str, dict[str, Any]]]:
    """Each RUNTIME:fastest replaced by the mode a short probe found fastest (engine.fastest),
    what was tried and why printed on stderr; other columns as given."""
    from engine.fastest import is_fastest, resolve

    if not any(is_fastest(c) for c in options.frameworks):
        return options.frameworks, {}

    def started(rt: str) -> None:
        print(f"Probing every mode of {label_of(rt)} to find the fastest...", file=sys.stderr)

    columns, probes = resolve(
        project,
        options.frameworks,
        device=options.device,
        init=options.init,
        optimizer=options.optimizer,
        on_probe=started,
    )
    for rt, found in probes.items():
        print(f"Fastest {label_of(rt)} mode: {found['why']}", file=sys.stderr)
    return columns, probes


def _print_result(summary: dict, out: Path, *, as_json: bool, exported: bool) -> None:
    """The result on stdout (the table, or summary.json's content with --json), so that
    ``twintrain train p.json > result.txt`` keeps it; where the files are goes to stderr."""
    import json

    where = f"Run folder: {out}  (report: {out / 'report.html'})"
    if as_json:
        print((out / "summary.json").read_text(encoding="utf-8").rstrip())
        print(where, file=sys.stderr)
        return
    print(_summary_text(summary))
    manifest_path = out / "models" / "exports.json"
    if exported and manifest_path.is_file():
        from engine.cli import format_exports

        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        print(
            format_exports(
                {
                    "entries": manifest["files"],
                    "cross_check": manifest["cross_check"],
                    "path": str(manifest_path),
                }
            )
        )
    print(where)
    sys.stdout.flush()


class _Progress:
    """Progress on stderr: a bar per framework on a terminal, else one plain line per epoch
    (a log file or a pipe gets no carriage-return noise); nothing with --quiet."""

    def __init__(
        self,
        frameworks: Iterable[str],
        total: int,
        epochs: int,
        *,
        quiet: bool,
        stream: IO[str] | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.epochs = epochs
        self.quiet = quiet
        self.bars = (
            {} if quiet or not _is_terminal(self.stream) else _bars(frameworks, total, self.stream)
        )

    def update(self, fw: str, ev: Event) -> None:
        if self.bars:
            _update_bar(self.bars[fw], fw, ev)
        elif not self.quiet:
            line = _plain_line(fw, ev, self.epochs)
            if line:
                print(line, file=self.stream, flush=True)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _bars(frameworks: Iterable[str], total: int, stream: IO[str]) -> dict[str, Any]:
    from tqdm import tqdm

    return {
        fw: tqdm(
            total=total,
            desc=f"{label_of(fw):<16}",
            position=i,
            unit="step",
            leave=True,
            dynamic_ncols=True,
            file=stream,
        )
        for i, fw in enumerate(frameworks)
    }


def _plain_line(fw: str, ev: Event, epochs: int) -> str | None:
    if isinstance(ev, Epoch):
        parts = [f"{label_of(fw)}: epoch {ev.epoch}/{epochs}"]
        for value, label in (
            (ev.train_loss, "train loss"),
            (ev.val_loss, "val loss"),
            (ev.val_accuracy, "val acc"),
        ):
            if value is not None:
                parts.append(f"{label} {value:.4f}")
        return ", ".join(parts)
    if isinstance(ev, Status) and ev.error and ev.status == "error":
        return f"{label_of(fw)}: {ev.error}"
    return None


def _update_bar(bar: Any, fw: str, ev: Event) -> None:  # bar: a tqdm bar (untyped)
    if isinstance(ev, Steps):
        bar.update(len(ev))
        if len(ev):
            bar.set_postfix(loss=f"{ev.loss[-1]:.4f}", refresh=False)
    elif isinstance(ev, Epoch) and ev.val_loss is not None:
        acc = ev.val_accuracy
        bar.set_postfix(
            val_loss=f"{ev.val_loss:.4f}",
            **({"val_acc": f"{acc:.3f}"} if acc is not None else {}),
        )
    elif isinstance(ev, Status) and ev.error and ev.status == "error":
        bar.write(f"{label_of(fw)}: {ev.error}")


def _summary_text(summary: dict) -> str:
    from engine.report import footnotes, run_rows, summary_rows

    names = list(summary["frameworks"])
    marks = {label: i + 1 for i, (label, _) in enumerate(footnotes())}
    rows = [("", *[label_of(n) for n in names], "")]
    for label, cells, note in summary_rows(summary):
        mark = f" [{marks[label]}]" if label in marks else ""
        rows.append(
            (label + mark, *[c.replace("<b>", "").replace("</b>", "") for c in cells], note)
        )
    run = [(f"{label} [{marks[label]}]", text) for label, text, _ in run_rows(summary)]
    widths = [
        max(len(r[i]) for r in rows + [(label, *[""] * len(names), "") for label, _ in run])
        for i in range(len(rows[0]))
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[:1]]
    lines += [f"{label.ljust(widths[0])}  {text}" for label, text in run]  # run-wide: one value
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[1:]]
    for n in names:
        err = summary["frameworks"][n].get("error")
        if err:
            lines.append(f"{label_of(n)} failed: {err}")
    if summary.get("schedule_text"):
        lines.append(f"Schedule: {summary['schedule_text']}")
    for rt, found in (summary.get("fastest") or {}).items():
        lines.append(f"Fastest {label_of(rt)} mode (probe): {found['why']}")
    parity = summary.get("parity")
    if parity and parity["max_loss_abs_diff"] is not None:
        first = parity["first_divergent_step"]
        pairs = parity.get("pairs") or {}
        against = f" against {label_of(parity['reference'])}" if len(pairs) > 1 else ""
        lines.append(
            f"Parity{against}: max |loss diff| {parity['max_loss_abs_diff']:.3g} "
            f"over {parity['steps_compared']} steps; "
            f"first step past {parity['tolerance']:.2g}: {first if first else 'none'}"
        )
        if len(pairs) > 1:
            lines += [f"  {label_of(fw)}: {_pair_text(p)}" for fw, p in pairs.items()]
        lines += [f"  note: {n}" for n in parity["notes"]]
    lines += [f"Note: {n}" for n in summary.get("notes", [])]
    lines += [f"[{marks[label]}] {label}: {text}" for label, text in footnotes()]
    return "\n".join(lines)


def _pair_text(pair: dict) -> str:
    """One runtime's loss parity against the reference, for the table's parity lines."""
    if pair.get("max_loss_abs_diff") is None:
        return "no steps to compare"
    first = pair.get("first_divergent_step")
    return (
        f"max |loss diff| {pair['max_loss_abs_diff']:.3g} over {pair['steps_compared']} steps; "
        f"first step past {pair['tolerance']:.2g}: {first if first else 'none'}"
    )
