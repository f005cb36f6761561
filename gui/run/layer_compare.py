"""Run > Compare Layers: where the first two ticked columns part, on the canvas the user drew.

One engine call (engine.divergence.run_diff) in the background: it starts both columns' workers,
so no framework is ever imported in the GUI process. Its result tints each block (``TINTS``, the
legend over the canvas says what each colour means), extends the block's tooltip, shows the
figures in the inspector (``layer_lines``), and selects the first divergent block. Any change to
the project drops it: the figures described the model as it was.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from engine.divergence import RTOL
from engine.fastest import is_fastest
from engine.runtimes import label_of

if TYPE_CHECKING:
    from gui.tasks import Task

# What each colour means, in the order the legend lists them.
TINTS = {
    "ok": ("#3BB273", "within tolerance"),
    "follows": ("#E1BC29", "follows from the first divergent layer"),
    "known": ("#2E86AB", "differs for a known reason"),
    "unexplained": ("#D62728", "differs, unexplained"),
}


def verdict(row: dict[str, Any]) -> str:
    """The TINTS key of one layer's row (engine.divergence.result)."""
    if row["within_tolerance"]:
        # alone it agrees; in place it carries the first divergent layer's difference
        return "ok" if row.get("in_place_within_tolerance", True) else "follows"
    if row["unexplained"]:
        return "unexplained"
    return "follows" if str(row["cause"]).startswith("follows from") else "known"


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.2e}"


def layer_lines(res: dict[str, Any], lid: str) -> list[str]:
    """The comparison of one layer as HTML lines (inspector and tooltip); [] if not compared."""
    row = next((r for r in res["layers"] if r["id"] == lid), None)
    if row is None:
        return []
    a, b = (html.escape(label_of(c)) for c in res["frameworks"])
    colour, meaning = TINTS[verdict(row)]
    first = " (the first divergent layer)" if res["first_divergent_layer"] == lid else ""
    alone = res["comparison"] == "isolated"
    lines = [
        f"<b style='color:{colour}'>{b} vs {a}: {meaning}{first}</b>",
        f"{'alone' if alone else 'in place'}: output max |diff| "
        f"{_figure(row['forward_max_abs_diff'])}, weight gradients "
        f"{_figure(row['weight_grad_max_abs_diff'])}",
        f"in place: output {_figure(row.get('in_place_forward_max_abs_diff'))}, its gradient "
        f"{_figure(row['output_grad_max_abs_diff'])}, update {_figure(row['update_max_abs_diff'])}",
    ]
    if row["cause"]:
        lines.append(f"why: {html.escape(row['cause'])}")
    elif row["unexplained"]:
        lines.append("no known cause: a bug in TwinTrain, or a real framework difference")
    lines.append(f"batch {res['step'] + 1}")
    return lines


class LayerCompare:
    """The action, the background comparison, and showing or dropping its result."""

    def __init__(self, win, training) -> None:
        self.win, self.training = win, training
        self.task: Task | None = None
        self.action = QAction("Compare &Layers", win)
        self.action.setShortcut("Ctrl+Shift+L")
        self.action.setStatusTip(
            "Compare every layer of the first two ticked columns on one batch, on the canvas"
        )
        self.action.triggered.connect(self.start)
        self.legend = QLabel(win.view)
        self.legend.setObjectName("CompareLegend")
        self.legend.setStyleSheet(
            "background:rgba(255,255,255,230);border:1px solid #bbb;padding:4px 8px;"
        )
        self.legend.hide()
        win.doc.changed.connect(self.clear)

    def columns(self) -> tuple[str, ...]:
        chosen = [c for c in self.training.dashboard.checked() if not is_fastest(c)]
        return tuple(chosen[:2])

    def start(self, columns: tuple[str, str] | None = None, step: int = 0) -> bool:
        """Compare two columns (the first two ticked unless given) on batch ``step + 1``, the
        batches before it replayed; a message says what is missing instead."""
        if self.task is not None:
            return False
        chosen = columns or self.columns()
        if len(chosen) < 2:
            self.win.tell(
                "Two columns to compare",
                "Tick two columns above the plots (two runtimes, or one runtime in two modes) "
                "to compare their layers.",
                "warning",
            )
            return False
        checked = self.training._checked_project("Cannot compare layers yet")
        if checked is None:
            return False
        project, _graph = checked
        options = self.training.dashboard.chosen()
        from engine.divergence import run_diff
        from gui.tasks import run_in_background

        self.action.setEnabled(False)
        self.win.statusBar().showMessage(
            f"Comparing the layers of {label_of(chosen[0])} and {label_of(chosen[1])}"
            f" on batch {step + 1}…"
        )
        self.task = run_in_background(
            lambda _task: run_diff(
                project,
                (chosen[0], chosen[1]),
                step=step,
                init=options.init,
                optimizer=options.optimizer,
            ),
            on_result=self.show,
            on_error=self.failed,
            parent=self.win,
            name="compare-layers",
        )
        return True

    def show(self, res: dict[str, Any]) -> None:
        self.task = None
        self.action.setEnabled(True)
        doc, scene = self.win.doc, self.win.scene
        doc.comparison = res
        scene.show_divergence(
            {
                row["id"]: (TINTS[verdict(row)][0], "<br>".join(layer_lines(res, row["id"])))
                for row in res["layers"]
            }
        )
        a, b = (html.escape(label_of(c)) for c in res["frameworks"])
        entries = [f"<span style='color:{c}'>■</span> {html.escape(m)}" for c, m in TINTS.values()]
        self.legend.setText(
            f"<b>{b} vs {a}</b>, layer by layer<br>"
            + "<br>".join(" &nbsp; ".join(entries[i : i + 2]) for i in range(0, len(entries), 2))
            + f"<br>tolerance {RTOL:g} × the largest value, per tensor"
        )
        self.legend.adjustSize()
        self.legend.move(12, max(10, self.win.view.height() - self.legend.height() - 12))
        self.legend.show()
        first = res["first_divergent_layer"]
        if first:
            scene.select_only([first])
            self.win.view.centerOn(scene.blocks[first])
            text = f"first divergent layer: {first}"
        else:
            text = "every layer within tolerance"
        self.win.inspector.refresh()
        self.win.statusBar().showMessage(
            f"{label_of(res['frameworks'][1])} vs {label_of(res['frameworks'][0])}: {text}", 15000
        )

    def failed(self, exc: BaseException, _tb: str) -> None:
        self.task = None
        self.action.setEnabled(True)
        self.win.statusBar().clearMessage()
        self.win.tell("Could not compare the layers", str(exc), "warning")

    def clear(self) -> None:
        """The project changed: the comparison described another model."""
        if self.win.doc.comparison is None:
            return
        self.win.doc.comparison = None
        self.win.scene.show_divergence({})
        self.legend.hide()
        self.win.inspector.refresh()
