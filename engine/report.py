"""report.html: one self-contained page (no network, charts inlined as SVG)."""

from __future__ import annotations

import html
import platform
from pathlib import Path
from typing import Any

from engine.charts import CHARTS
from engine.spec.project import write_atomic
from engine.style import color_of, label_of

ROWS = [
    ("version", "Version", "text"),
    ("mode", "Mode", "text"),
    ("device", "Device", "text"),
    ("threads", "Threads", "text"),
    ("startup", "Start-up", "text"),
    ("params", "Parameters", "int"),
    ("steps", "Steps", "int"),
    ("warmup_s", "Warm-up (s)", "lower"),
    ("first_step_s", "First step (s)", "lower"),
    ("compile_text", "Compile", "text"),
    ("break_even_text", "Break-even", "text"),
    ("step_time_median_s", "Median step (ms)", "lower_ms"),
    ("step_time_p95_s", "p95 step (ms)", "lower_ms"),
    ("samples_per_s", "Samples/s", "higher"),
    ("samples_per_s_overall", "Samples/s (total ÷ time)", "higher"),
    ("peak_rss_bytes", "Peak RSS (MiB)", "lower_mib"),
    ("peak_device_bytes", "Peak device memory (MiB)", "lower_mib"),
    ("final_train_loss", "Final train loss", "num"),
    ("final_val_loss", "Final val loss", "num"),
    ("final_val_accuracy", "Final val accuracy", "num"),
]

# How each row is computed: the app's tooltips and the report's and CLI's footnotes.
ROW_HELP = {
    "startup": "From the worker's job to its first step "
    "(framework import included unless pre-started).",
    "warmup_s": "Total time of the warm-up steps "
    "(the first steps, up to 5 and at most a tenth of the run: "
    "tracing, first-call caches); they are left out of every figure below.",
    "mode": "How the runtime executed its step (eager, graph, compile, xla, jit...): the same "
    "math, matched init and batches in every mode.",
    "first_step_s": "Time of the first training step: tracing and compiling included, "
    "the framework import and model build not.",
    "compile_text": "Time spent tracing or compiling (each compile step's time minus the steady "
    "median), the graphs compiled, and recompiles after the first step (a smaller last batch, "
    "a new shape); steady figures start after the last recompile.",
    "break_even_text": "After how many steps a mode's compile time is paid back by its faster "
    "steps, against its runtime's default mode in the same run: "
    "(compile - default's compile) / (default's median step - its median step).",
    "step_time_median_s": "Median of the steady steps' times (warm-up left out); "
    "each step's time covers "
    "the whole training step with the loss read back.",
    "step_time_p95_s": "95th percentile of the steady steps' times (warm-up left out).",
    "samples_per_s": "Steady-state throughput: "
    "mean samples per steady step ÷ the median step time, from the "
    "same steps as the median, so it ranks the frameworks as the median step does "
    "(the throughput chart's line follows it over a rolling window).",
    "samples_per_s_overall": "All steady samples ÷ all steady step time (a mean): a few slow steps "
    "(a pause, a collection, a busy core) pull it down, the median-based row above not.",
    "peak_rss_bytes": "Highest resident memory (RSS) of the framework's worker process "
    "during the run.",
    "peak_device_bytes": "Highest GPU memory the framework had allocated (GPU runs only).",
}

# What each comparable row's better side is called: "PyTorch 1.61× less memory".
BETTER = {
    "warmup_s": "shorter warm-up",
    "first_step_s": "faster first step",
    "step_time_median_s": "faster",
    "step_time_p95_s": "faster",
    "samples_per_s": "higher throughput",
    "samples_per_s_overall": "higher throughput",
    "peak_rss_bytes": "less memory",
    "peak_device_bytes": "less device memory",
}

# Run-wide rows (one value for the whole run): key in summary.json, label, value -> text.
RUN_ROWS = [
    (
        "init",
        "Init",
        {"matched": "matched (same initial weights)", "native": "native (each framework's own)"},
    ),
    (
        "optimizer",
        "Optimizer math",
        {"matched": "matched (Keras formulas)", "native": "native (stock)"},
    ),
]
RUN_HELP = {
    "init": "Matched: the initial weights are drawn once from the seed "
    "and loaded into every framework. "
    "Native: each framework initialises its own layers.",
    "optimizer": "Matched: PyTorch runs Keras' update formulas, so both compute the same update. "
    "Native: each framework's stock optimizer.",
}


def run_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, text, how it is computed) of the run-wide rows: which init and optimizer math ran."""
    rows = []
    for key, label, texts in RUN_ROWS:
        value = summary.get(key) or (summary.get("init") if key == "optimizer" else None)
        rows.append((label, texts.get(value, str(value)) if value else "–", RUN_HELP[key]))
    return rows


def footnotes() -> list[tuple[str, str]]:
    """(row label, how it is computed) in table order: the report's and the CLI's footnotes."""
    return [(label, RUN_HELP[key]) for key, label, _ in RUN_ROWS] + [
        (label, ROW_HELP[key]) for key, label, _ in ROWS if key in ROW_HELP
    ]


def comparison(key: str, values: list[Any], names: list[str]) -> tuple[int | None, str]:
    """(index of the better framework, what the comparison cell says) for one row: the better
    one against the runner-up, with the direction in words ("TensorFlow/Keras 1.20× faster").
    Only frameworks with a positive number take part; fewer than two give (None, "")."""
    kind = next((k for k_, _, k in ROWS if k_ == key), "")
    if key not in BETTER or not kind.startswith(("lower", "higher")):
        return None, ""
    ok = [
        i
        for i, v in enumerate(values)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
    ]
    if len(ok) < 2:
        return None, ""
    ranked = sorted(ok, key=lambda i: values[i], reverse=kind.startswith("higher"))
    best, second = ranked[0], ranked[1]
    ratio = max(values[best], values[second]) / min(values[best], values[second])
    if ratio < 1.005:  # would print as 1.00×: neither is better
        return None, "about the same"
    text = f"{label_of(names[best])} {ratio:.2f}× {BETTER[key]}"
    if len(names) > 2:  # which one it beats is no longer obvious
        text += f" than {label_of(names[second])}"
    return best, text


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
        best, note = comparison(key, values, names)
        if best is not None:
            cells[best] = f"<b>{cells[best]}</b>"
        rows.append((label, cells, note))
    return rows


def _fastest_html(summary: dict[str, Any]) -> str:
    """What each RUNTIME:fastest probe tried and why it chose its mode."""
    found = summary.get("fastest") or {}
    return "".join(
        f'<p class="meta">Fastest {html.escape(label_of(rt))} mode (probe): '
        f"{html.escape(f['why'])}</p>"
        for rt, f in found.items()
    )


def _divergence_html(out: Path) -> str:
    """The layer comparison of the step where the curves parted (engine.divergence), if made."""
    import json

    from engine.divergence import DIVERGENCE_FILE, table_text

    path = Path(out) / DIVERGENCE_FILE
    if not path.is_file():
        return ""
    res = json.loads(path.read_text(encoding="utf-8"))
    a, b = (html.escape(label_of(c)) for c in res["frameworks"])
    head = f"<h3>Where {b} and {a} part: every layer at batch {res['step'] + 1}</h3>"
    if res.get("error"):
        return (
            head
            + f'<p class="error">The layers could not be compared: {html.escape(res["error"])}</p>'
        )
    return (
        head + '<p class="meta">The batch where the losses first differed past the tolerance, both '
        "models built from the same weights and the batches before it replayed "
        "(<code>twintrain diff</code>); compared in place.</p>"
        + f"<pre>{html.escape(table_text(res))}</pre>"
    )


def _deploy_html(out: Path) -> str:
    """The Deployment section: deploy.json's table and chart (`twintrain bench-export`)."""
    import json

    from engine.deploy.benchmark import CHART_SVG, DEPLOY_FILE
    from engine.deploy.table import cells, columns

    path = Path(out) / DEPLOY_FILE
    if not path.is_file():
        return ""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        heads = columns(result)
        rows = [cells(result, r) for r in result["formats"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f'<h2>Deployment</h2><p class="error">{DEPLOY_FILE} cannot be read: {exc}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    notes = "".join(
        f"<li>{html.escape(str(r['file']))}: {html.escape(str(r['status']))}: "
        f"{html.escape(str(r['reason']))}</li>"
        for r in result["formats"]
        if r.get("reason")
    )
    versions = ", ".join(f"{k} {v}" for k, v in (result.get("runtimes") or {}).items())
    chart = ""
    svg = Path(out) / CHART_SVG
    if svg.is_file():
        text = svg.read_text(encoding="utf-8")
        chart = f"<figure>{text[text.find('<svg') :]}</figure>"
    return (
        "<h2>Deployment</h2>"
        f'<p class="meta">Every exported file loaded in its runtime, each in a process of its '
        f"own, {result.get('threads')} thread(s); latencies in ms over about "
        f"{result.get('seconds')} s per file and batch size, in interleaved rounds; max diff "
        f"against the trained model in its own framework (the eager rows) on "
        f"{result.get('samples')} samples of {html.escape(str(result.get('inputs')))}. "
        f"Runtimes: {html.escape(versions)}.</p>"
        f'<table class="deploy"><tr>{head}</tr>{body}</table>'
        + (f'<ul class="meta">{notes}</ul>' if notes else "")
        + chart
    )


def _schedule_detail(summary: dict[str, Any]) -> str:
    text = summary.get("schedule_text")
    return f" ({html.escape(text)})" if text else ""


def _pairs_html(parity: dict[str, Any]) -> str:
    """The pairwise table (every runtime against the reference), when there is more than one."""
    pairs = parity.get("pairs") or {}
    if len(pairs) < 2:
        return ""
    ref = label_of(parity["reference"])
    rows = "".join(
        f'<tr><th style="color:{color_of(fw)}">{html.escape(label_of(fw))}</th>'
        f"<td>{_cell(p['initial_loss_abs_diff'], 'num')}</td>"
        f"<td>{_cell(p['max_loss_abs_diff'], 'num')}</td>"
        f"<td>{p['first_divergent_step'] or 'none'}</td><td>{p['steps_compared']}</td></tr>"
        for fw, p in pairs.items()
    )
    return (
        f"<table><tr><th>Against {html.escape(ref)}</th><th>Initial loss difference</th>"
        "<th>Largest loss difference</th><th>First step past the tolerance</th>"
        f"<th>Steps compared</th></tr>{rows}</table>"
    )


def write_report(summary: dict[str, Any], out: Path) -> Path:
    names = list(summary["frameworks"])
    head = "".join(f'<th style="color:{color_of(n)}">{label_of(n)}</th>' for n in names)
    body = []
    for n in names:
        err = summary["frameworks"][n].get("error")
        if err:
            body.append(f'<p class="error"><b>{label_of(n)} failed:</b> {html.escape(err)}</p>')
    marks = {label: i + 1 for i, (label, _) in enumerate(footnotes())}

    def th(label: str) -> str:
        mark = marks.get(label)
        return (
            f"<th>{label}"
            + (f'<sup><a href="#note{mark}">{mark}</a></sup>' if mark else "")
            + "</th>"
        )

    rows = "".join(
        f"<tr>{th(label)}<td class='run' colspan='{len(names) + 1}'>{html.escape(text)}</td></tr>"
        for label, text, _ in run_rows(summary)
    ) + "".join(
        f"<tr>{th(label)}{''.join(f'<td>{c}</td>' for c in cells)}<td class='note'>{note}</td></tr>"
        for label, cells, note in summary_rows(summary)
    )
    notes_html = "".join(
        f'<li id="note{marks[label]}"><b>{html.escape(label)}</b>: {html.escape(text)}</li>'
        for label, text in footnotes()
    )
    parity = summary.get("parity")
    parity_html = ""
    if parity:
        first = parity["first_divergent_step"]
        parity_html = (
            "<h2>Parity</h2><ul>"
            f"<li>Initial loss difference: {_cell(parity['initial_loss_abs_diff'], 'num')}</li>"
            f"<li>Largest loss difference over {parity['steps_compared']} steps: "
            f"{_cell(parity['max_loss_abs_diff'], 'num')}</li>"
            f"<li>First step past the tolerance ({_cell(parity['tolerance'], 'num')}): "
            f"{first if first else 'none'}</li>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in parity["notes"])
            + "</ul>"
            + _pairs_html(parity)
            + _divergence_html(out)
        )
    charts = []
    for name in CHARTS:
        svg = out / "charts" / f"{name}.svg"
        if svg.is_file():
            text = svg.read_text(encoding="utf-8")
            text = text[text.find("<svg") :]
            charts.append(f"<figure>{text}</figure>")
    machine = (
        f"{html.escape(platform.platform())}, Python {platform.python_version()}, "
        f"{html.escape(platform.processor() or platform.machine())}, "
        f"{__import__('os').cpu_count()} CPUs"
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">\
<title>TwinTrain report: {html.escape(summary["project"])}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;\
max-width:1000px;color:#222;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}} \
th,td{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}}
th:first-child{{text-align:left}} td.note{{color:#666;text-align:left;font-size:.9em}} \
td.run{{text-align:left}}
.error{{color:#b00020}} figure{{margin:1em 0}} figure svg{{max-width:100%;height:auto}}
.meta{{color:#555;font-size:.9em}}
table.deploy{{font-size:.8em}} table.deploy td:nth-child(-n+4){{text-align:left}}
</style></head><body>
<h1>{html.escape(summary["project"])}</h1>
<p class="meta">Schedule <b>{summary["schedule"]}</b>{_schedule_detail(summary)}, \
init <b>{summary["init"]}</b>, \
optimizer math <b>{summary.get("optimizer", summary["init"])}</b>.
Machine: {machine}.</p>
{"".join(body)}
<table><tr><th></th>{head}<th></th></tr>{rows}</table>
<ol class="meta">{notes_html}</ol>
{parity_html}
<h2>Charts</h2>
{"".join(charts)}
{"".join(f'<p class="meta">{html.escape(n)}</p>' for n in summary.get("notes", []))}
{_fastest_html(summary)}
{_deploy_html(out)}
<p class="meta">Warm-up steps (tracing, first-call caches) are excluded from medians and throughput,
and so are the steps up to a mode's last recompile.
Step time covers the whole training step with the loss read back.</p>
</body></html>
"""
    path = out / "report.html"
    write_atomic(path, page)
    return path
