"""Past runs on the dashboard: a run selected in the Runs panel shows its summary, charts and
report again (read from its folder, after any restart); two or more side by side in the summary
table (Compare); the other selected runs' loss curves overlaid. Opening another project clears
the dashboard, so it never shows the previous project's run as if it were this one's.

The dashboard's widgets are filled through their own APIs (LivePlots.reset/update_from,
SummaryTable.fill); the dashboard shows the live run again when a run starts.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QTableWidgetItem

from engine.past_runs import (
    SETTINGS,
    distinguishing,
    framework_label,
    full_text,
    load_past_run,
    read_summary,
    run_info,
)
from engine.report import ROWS, _cell, comparison, run_rows
from engine.style import color_of
from engine.summary import warmup_steps
from gui.run.buffers import Series
from gui.run.summary_table import PARITY_ROWS

IDLE_TEXT = "Press Train (F5) to train the ticked frameworks."


def series_from_run(run) -> dict[str, Series]:
    """The GUI's buffers rebuilt from metrics.csv (wall time: the sum of step times, since the
    file keeps no wall clock)."""
    out = {}
    for fw, cols in run.steps.items():
        n = len(cols["step"])
        figures = (
            run.summary.get("frameworks", {}).get(fw, {})
            if isinstance(run.summary.get("frameworks"), dict)
            else {}
        )
        series = Series(
            capacity=max(n, 1), warmup=int(figures.get("warmup_steps") or warmup_steps(n))
        )
        times = np.nan_to_num(cols["step_time_s"], nan=0.0)
        series.extend(
            {
                "step": cols["step"],
                "epoch": cols["epoch"],
                "loss": cols["loss"],
                "step_time_s": cols["step_time_s"],
                "samples": np.rint(np.nan_to_num(cols["samples_per_s"], nan=0.0) * times),
                "rss_bytes": cols["rss_bytes"],
                "device_bytes": cols["device_bytes"],
                "wall_s": np.cumsum(times),
            }
        )
        out[fw] = series
    return out


class PastRuns:
    """Wires the Runs panel to the dashboard (created by TrainingUi)."""

    def __init__(self, ui) -> None:
        self.ui = ui
        self.dash = ui.dashboard
        self.panel = ui.runs
        self.controller = ui.controller
        self.shown: Path | None = (
            None  # the past run on the dashboard, None: the live run (or nothing)
        )
        self.compared: list[Path] = []
        self.cleared = False
        self.panel.ask = lambda *a: ui.win.ask(
            *a
        )  # the window's, so tests and the app answer alike
        self.panel.tell = lambda *a: ui.win.tell(*a)
        self.panel.busy_folder = lambda: (
            self.controller.run_dir if self.controller.running else None
        )
        self.panel.selection_changed.connect(self.select)
        self.panel.compare_requested.connect(self.compare)
        self.controller.running_changed.connect(self._running)
        self.dash.x_axis.currentIndexChanged.connect(
            self._reapply
        )  # after the dashboard redrew its live run
        ui.win.doc.reset.connect(self.clear)

    # ---- what the dashboard shows ------------------------------------------------------------

    def select(self, folders: list[Path]) -> None:
        """Show the current selected run in full and overlay the others' loss curves; while a run
        goes, only overlay (the live run keeps the dashboard)."""
        self.compared = []
        live = self.controller.run_dir if self.controller.running else None
        current = None if self.controller.running else self.panel.current()
        others = [f for f in folders if f != live and f != current]
        if current is not None:
            self.show(current)
        elif not self.controller.running and (self.shown is not None or self.cleared):
            self.back_to_live()
        infos = [run_info(f) for f in ([current] if current else []) + others]
        labels = distinguishing(infos)[1 if current else 0 :]
        shown = [(label, f, c) for label, f in zip(labels, others) if (c := _loss_curves(f))]
        self.dash.plots.set_overlays([(label, curves) for label, _f, curves in shown])
        self.dash.overlay_runs = [(label, f) for label, f, _c in shown]  # Export charts draws them

    def show(self, folder: Path) -> None:
        run = load_past_run(folder)
        info = run_info(folder)
        series = series_from_run(run)
        summary = run.summary
        found = summary.get("frameworks")
        figures = found if isinstance(found, dict) else {}
        frameworks = tuple(figures) or tuple(series)
        self.shown, self.cleared = folder, False
        self.ui.show_dashboard(True)
        self.restore_table(frameworks)
        plots = self.dash.plots
        plots.reset(frameworks, max((len(s) for s in series.values()), default=0))
        plots.update_from(series, {fw: run.epochs.get(fw, []) for fw in series})
        found_parity = summary.get("parity")
        parity = found_parity if isinstance(found_parity, dict) else None
        self.dash.table.fill(
            {fw: figures.get(fw, {}) for fw in frameworks},
            parity,
            list(parity.get("notes", [])) if parity else [],
            list(summary.get("notes", [])),
            run={k: summary.get(k) for k in ("init", "optimizer")},
        )
        self.dash.show_status(frameworks)
        for fw, status in self.dash.status.items():
            f = figures.get(fw)
            if f is None:
                status.set_error(None)
                status.set_state("not in this run")
            elif "error" in f:
                status.set_state("failed")
                status.set_error(str(f["error"]), str(f.get("error_detail", "")))
            else:
                status.set_error(None)
                status.set_state(f"{f.get('status', 'finished')} · {f.get('steps')} steps")
        self.dash.info.setText(f"Past run: {info['name']} · {info['time']} · …/{folder.name}")
        self.dash.info.setToolTip(full_text(info))
        self.dash.report_button.setEnabled((folder / "report.html").is_file())
        self.dash.shown_run = folder

    def compare(self, folders: list[Path]) -> None:
        """Two or more runs side by side in the summary table: one column per run and framework,
        each run's run-wide figures across its own columns."""
        if (
            len(folders) < 2 or self.controller.running
        ):  # the live run keeps the table while it goes
            return
        infos = sorted((run_info(f) for f in folders), key=lambda i: i["time"])  # oldest first
        folders = [i["folder"] for i in infos]
        self.compared = list(folders)
        differ = [k for k in SETTINGS if len({i["settings"].get(k) for i in infos}) > 1]
        labels = [
            "\n".join(
                [f"{i['name']} {i['time'][11:16]}".strip()]
                + [i["settings"][k] for k in differ if k in i["settings"]]
            )
            for i in infos
        ]
        summaries = [read_summary(f) for f in folders]
        columns = [(i, fw) for i, s in enumerate(summaries) for fw in (s.get("frameworks") or {})]
        table = self.dash.table
        table.clearSpans()
        table.clearContents()
        table.setColumnCount(len(columns) + 1)  # the last says which column is best, per row
        rows = {table.verticalHeaderItem(r).text(): r for r in range(table.rowCount())}
        for col, (i, fw) in enumerate(columns):
            failed = "error" in summaries[i]["frameworks"][fw]
            item = QTableWidgetItem(
                f"{labels[i]}\n{framework_label(fw)}{' (failed)' if failed else ''}"
            )
            item.setForeground(QColor(color_of(fw)))
            item.setToolTip(full_text(infos[i]))
            table.setHorizontalHeaderItem(col, item)
            metrics = table.horizontalHeader().fontMetrics()
            table.setColumnWidth(
                col,
                max(
                    110, *(metrics.horizontalAdvance(line) + 16 for line in item.text().split("\n"))
                ),
            )
            figures = summaries[i]["frameworks"][fw]
            for key, label, kind in ROWS:
                if label in rows:
                    table.setItem(
                        rows[label],
                        col,
                        QTableWidgetItem(html.unescape(_cell(figures.get(key), kind))),
                    )
        names = [
            f"{infos[i]['name']} {infos[i]['time'][11:16]} {framework_label(fw)}".strip()
            for i, fw in columns
        ]
        best_col = len(columns)
        table.setHorizontalHeaderItem(best_col, QTableWidgetItem("Best"))
        for key, label, _kind in ROWS:
            if label not in rows:
                continue
            values = [summaries[i]["frameworks"][fw].get(key) for i, fw in columns]
            best, note = comparison(key, values, names)
            note_item = QTableWidgetItem(note)
            note_item.setToolTip(note)
            table.setItem(rows[label], best_col, note_item)
            cell = table.item(rows[label], best) if best is not None else None
            if cell is not None:  # the best of all compared columns, as the live table marks it
                font = QFont()
                font.setBold(True)
                cell.setFont(font)
                cell.setForeground(QColor(color_of(columns[cell.column()][1])))
                cell.setToolTip(f"best of the compared columns: {note}")
        for i, summary in enumerate(summaries):
            cols = [c for c, (j, _fw) in enumerate(columns) if j == i]
            if not cols:
                continue
            found = summary.get("parity")
            parity = found if isinstance(found, dict) else {}
            diff, first = parity.get("max_loss_abs_diff"), parity.get("first_divergent_step")
            texts = dict(
                zip(
                    PARITY_ROWS,
                    [
                        "–" if diff is None else f"{diff:.3g}",
                        "–"
                        if not parity
                        else ("none (within tolerance)" if first is None else str(first)),
                        "; ".join(parity.get("notes", [])) or "none",
                        "; ".join(summary.get("notes", [])) or "none",
                    ],
                )
            )
            texts.update({label: text for label, text, _help in run_rows(summary)})
            for label, text in texts.items():
                if label not in rows:
                    continue
                if len(cols) > 1:
                    table.setSpan(rows[label], cols[0], 1, len(cols))
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(rows[label], cols[0], item)
        table.resizeRowsToContents()
        if self.dash.tabs.isVisible():
            self.dash.tabs.setCurrentWidget(table)
        self.ui.show_dashboard(True)

    def restore_table(self, frameworks) -> None:
        """The table's own layout again (three columns, framework headers) after a comparison."""
        table = self.dash.table
        table.clearSpans()
        for col in range(table.columnCount()):
            table.setHorizontalHeaderItem(
                col, QTableWidgetItem("")
            )  # no colour or tooltip left from Compare
        table.set_frameworks(frameworks)

    def back_to_live(self) -> None:
        """Nothing selected: the last live run of this session, if any and not cleared; else
        empty."""
        c = self.controller
        self.shown = None
        if c.series and not self.cleared:
            self.restore_table(tuple(c.series))
            self.dash.plots.reset(c.series.keys(), c.expected_steps)
            self.dash.refresh(force_table=True)
            self.dash.report_button.setEnabled(
                bool(c.run_dir and (c.run_dir / "report.html").exists())
            )
            self.dash.info.setText(
                f"Run folder: …/{c.run_dir.parent.name}/{c.run_dir.name}"
                if c.run_dir
                else IDLE_TEXT
            )
            self.dash.shown_run = None
            self.dash.show_status(tuple(c.series))
            for fw, status in self.dash.status.items():
                message, log = c.errors.get(fw, (None, ""))
                status.set_error(message, log)
                status.set_state("failed" if message else c.status.get(fw, "not in this run"))
        else:
            self.clear()

    def clear(self) -> None:
        """Another project was opened: no run on the dashboard until it trains or one is
        selected."""
        if self.controller.running:
            return
        self.shown, self.compared, self.cleared = None, [], True
        self.restore_table(self.dash.table.frameworks)
        if self.dash.plots.built:  # plots never built have nothing to clear
            self.dash.plots.reset(())
            self.dash.plots.set_overlays([])
        self.dash.overlay_runs = []
        self.dash.show_status(self.dash.checked(), follow_ticks=True)  # what Train would start
        for status in self.dash.status.values():
            status.set_error(None)
            status.set_state("")
        self.dash.info.setText(IDLE_TEXT)
        self.dash.info.setToolTip("")
        self.dash.report_button.setEnabled(False)
        self.dash.shown_run = None
        self.panel.list.blockSignals(True)
        self.panel.list.clearSelection()
        self.panel.list.blockSignals(False)

    def _running(self, running: bool) -> None:
        if running:
            self.shown, self.compared, self.cleared = None, [], False
            self.dash.shown_run = None
            self.restore_table(tuple(self.controller.series))

    def _reapply(self) -> None:
        """The x axis changed: the dashboard redrew its live run; put back what was shown."""
        if self.controller.running:
            return
        compared = list(self.compared)
        if self.shown is not None:
            self.show(self.shown)
        elif self.cleared:
            self.clear()
        if compared:
            self.compare(compared)


def _loss_curves(folder: Path):
    from gui.run.runs_panel import load_loss_curves

    return load_loss_curves(folder)
