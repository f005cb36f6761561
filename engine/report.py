"""report.html: one self-contained page (no network, charts inlined as SVG)."""

from __future__ import annotations

import html
import platform
from pathlib import Path
from typing import Any

from engine.charts import CHARTS
from engine.spec.project import write_atomic
from engine.style import COLORS, LABELS

ROWS = [
    ("version", "Version", "text"),
    ("device", "Device", "text"),
    ("threads", "Threads", "text"),
    ("startup", "Start-up", "text"),
    ("params", "Parameters", "int"),
    ("steps", "Steps", "int"),
    ("warmup_s", "Warm-up (s)", "lower"),
    ("step_time_median_s", "Median step (ms)", "lower_ms"),
    ("step_time_p95_s", "p95 step (ms)", "lower_ms"),
    ("samples_per_s", "Samples/s", "higher"),
    ("peak_rss_bytes", "Peak RSS (MiB)", "lower_mib"),
    ("peak_device_bytes", "Peak device memory (MiB)", "lower_mib"),
    ("final_train_loss", "Final train loss", "num"),
    ("final_val_loss", "Final val loss", "num"),
    ("final_val_accuracy", "Final val accuracy", "num"),
]


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind.endswith("_ms"):
        return f"{value * 1e3:.3f}"
    if kind.endswith("_mib"):
        return f"{value / 2**20:.0f}"
    if kind == "int":
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    return html.escape(str(value))


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, list[str], str]]:
    """(label, cells per framework, note) with the faster/smaller framework marked."""
    frameworks = summary["frameworks"]
    names = list(frameworks)
    rows = []
    for key, label, kind in ROWS:
        values = [frameworks[n].get(key) for n in names]
        cells = [_cell(v, kind) for v in values]
        note = ""
        if kind.startswith(("lower", "higher")) and len(names) == 2 and all(isinstance(v, (int, float)) and v for v in values):
            a, b = values
            best = 0 if (a < b) == kind.startswith("lower") else 1
            ratio = max(a, b) / min(a, b)
            cells[best] = f"<b>{cells[best]}</b>"
            verb = "faster" if key in ("warmup_s", "step_time_median_s", "step_time_p95_s", "samples_per_s") else "less"
            note = f"{LABELS[names[best]].split('/')[0]} {ratio:.2f}× {verb}"
        rows.append((label, cells, note))
    return rows


def write_report(summary: dict[str, Any], out: Path) -> Path:
    names = list(summary["frameworks"])
    head = "".join(f'<th style="color:{COLORS[n]}">{LABELS[n]}</th>' for n in names)
    body = []
    for n in names:
        err = summary["frameworks"][n].get("error")
        if err:
            body.append(f'<p class="error"><b>{LABELS[n]} failed:</b> {html.escape(err)}</p>')
    rows = "".join(
        f"<tr><th>{label}</th>{''.join(f'<td>{c}</td>' for c in cells)}<td class='note'>{note}</td></tr>"
        for label, cells, note in summary_rows(summary)
    )
    parity = summary.get("parity")
    parity_html = ""
    if parity:
        first = parity["first_divergent_step"]
        parity_html = (
            "<h2>Parity</h2><ul>"
            f"<li>Initial loss difference: {_cell(parity['initial_loss_abs_diff'], 'num')}</li>"
            f"<li>Largest loss difference over {parity['steps_compared']} steps: {_cell(parity['max_loss_abs_diff'], 'num')}</li>"
            f"<li>First step past the tolerance ({_cell(parity['tolerance'], 'num')}): {first if first else 'none'}</li>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in parity["notes"])
            + "</ul>"
        )
    charts = []
    for name in CHARTS:
        svg = out / "charts" / f"{name}.svg"
        if svg.is_file():
            text = svg.read_text(encoding="utf-8")
            text = text[text.find("<svg"):]
            charts.append(f'<figure>{text}</figure>')
    machine = (
        f"{html.escape(platform.platform())}, Python {platform.python_version()}, "
        f"{html.escape(platform.processor() or platform.machine())}, {__import__('os').cpu_count()} CPUs"
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TwinTrain report: {html.escape(summary['project'])}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}} th,td{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}}
th:first-child{{text-align:left}} td.note{{color:#666;text-align:left;font-size:.9em}}
.error{{color:#b00020}} figure{{margin:1em 0}} figure svg{{max-width:100%;height:auto}}
.meta{{color:#555;font-size:.9em}}
</style></head><body>
<h1>{html.escape(summary['project'])}</h1>
<p class="meta">Schedule <b>{summary['schedule']}</b>, init <b>{summary['init']}</b>, optimizer math <b>{summary.get('optimizer', summary['init'])}</b>.
Machine: {machine}.</p>
{''.join(body)}
<table><tr><th></th>{head}<th></th></tr>{rows}</table>
{parity_html}
<h2>Charts</h2>
{''.join(charts)}
{''.join(f'<p class="meta">{html.escape(n)}</p>' for n in summary.get('notes', []))}
<p class="meta">Warm-up steps (tracing, first-call caches) are excluded from medians and throughput.
Step time covers the whole training step with the loss read back.</p>
</body></html>
"""
    path = out / "report.html"
    write_atomic(path, page)
    return path
