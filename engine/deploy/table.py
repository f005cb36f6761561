"""deploy.json as text: the table `twintrain bench-export` prints, and the cells the report's
Deployment section shows (framework-free)."""

from __future__ import annotations

from typing import Any

from engine.style import label_of


def _num(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}g}{unit}"


def size_text(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def status_text(row: dict[str, Any]) -> str:
    status = str(row.get("status"))
    if status == "ok" and row.get("reason"):
        return f"ok ({row['reason']})"
    return status if status == "ok" else f"{status.upper()}: {row.get('reason')}"


def columns(result: dict[str, Any]) -> list[str]:
    heads = ["file", "framework", "runtime", "status", "size", "load s", "first ms"]
    for b in result.get("batches", []):
        heads += [f"p50 ms @{b}", f"p99 ms @{b}"]
    return heads + ["samples/s", "RSS MiB", "max diff", "accuracy"]


def cells(result: dict[str, Any], row: dict[str, Any]) -> list[str]:
    out = [
        str(row["file"]),
        label_of(str(row["framework"])),
        str(row["runtime"]),
        str(row["status"]),
        size_text(row.get("size_bytes")),
        _num(row.get("load_s")),
        _num(None if row.get("first_inference_s") is None else row["first_inference_s"] * 1e3),
    ]
    for b in result.get("batches", []):
        figures = (row.get("latency_ms") or {}).get(str(b)) or {}
        out += [_num(figures.get("p50")), _num(figures.get("p99"))]
    rss = row.get("peak_rss_bytes")
    out += [
        _num(row.get("samples_per_s"), digits=4),
        "–" if rss is None else f"{rss / 2**20:.0f}",
        _num(row.get("max_abs_diff"), digits=2),
        _num(row.get("accuracy"), digits=4),
    ]
    return out


def table_text(result: dict[str, Any]) -> str:
    heads = columns(result)
    rows = [cells(result, r) for r in result["formats"]]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(heads)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.ljust(w) if k < 4 else v.rjust(w) for k, (v, w) in enumerate(zip(values, widths))
        ).rstrip()

    out = [line(heads), line(["-" * w for w in widths])] + [line(r) for r in rows]
    notes = [
        f"{r['file']}: {r['status']}: {r['reason']}" for r in result["formats"] if r.get("reason")
    ]
    versions = ", ".join(f"{k} {v}" for k, v in result.get("runtimes", {}).items())
    biggest = max(result.get("batches") or [1])
    out += [
        "",
        f"threads: {result['threads']}; inputs: {result['samples']} samples of {result['inputs']}; "
        f"about {result['seconds']:g} s timed per file and batch size in {result['rounds']} "
        f"interleaved rounds; samples/s at batch {biggest}",
        f"runtimes: {versions or 'none ran'}",
        "max diff: the largest |difference| from the trained model in its own framework "
        "(the eager rows) on the same inputs",
        *notes,
    ]
    if result.get("chart"):
        out.append(f"chart: {result['chart']}")
    return "\n".join(out)
