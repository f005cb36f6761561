"""The Deployment chart (latency per format, grouped by framework), drawn in a child process
(``python -m engine.deploy.child chart OUT``): matplotlib never loads in the process that calls
the benchmark. In a run folder the same child writes report.html again, with the Deployment
section."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def chart_main(argv: list[str]) -> int:
    from engine.deploy.child import answer_channel

    out = answer_channel()
    folder = Path(argv[0])
    draw(folder)
    if (folder / "summary.json").is_file():
        from engine.report import write_report

        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        write_report(summary, folder)
    out.write(json.dumps({"event": "drawn"}) + "\n")
    out.flush()
    return 0


def draw(folder: Path) -> list[Path]:
    """deploy.png and deploy.svg from the folder's deploy.json: per batch size a panel of
    horizontal bars (p50, with a whisker to p99), one bar per file that ran, grouped by framework
    in its colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from engine.deploy.benchmark import CHART_FILE, CHART_SVG, DEPLOY_FILE
    from engine.style import color_of, label_of

    result: dict[str, Any] = json.loads((folder / DEPLOY_FILE).read_text(encoding="utf-8"))
    batches = result.get("batches") or [1]
    ran = [r for r in result["formats"] if r.get("latency_ms")]
    order = {fw: k for k, fw in enumerate(dict.fromkeys(r["framework"] for r in ran))}
    ran.sort(key=lambda r: (order[r["framework"]], not r.get("baseline")))
    height = max(2.5, 0.32 * len(ran) + 1.4)
    fig, axes = plt.subplots(
        1, len(batches), figsize=(2.5 + 4.2 * len(batches), height), squeeze=False, sharey=True
    )
    labels = [
        f"{'eager ' + r['framework'] if r.get('baseline') else r['file']}  [{r['runtime']}]"
        for r in ran
    ]
    ys = list(range(len(ran)))[::-1]
    for ax, b in zip(axes[0], batches):
        p50 = [((r["latency_ms"].get(str(b)) or {}).get("p50") or 0.0) for r in ran]
        p99 = [((r["latency_ms"].get(str(b)) or {}).get("p99") or 0.0) for r in ran]
        colours = [color_of(r["framework"]) for r in ran]
        ax.barh(ys, p50, color=colours, alpha=0.85)
        ax.errorbar(
            p50,
            ys,
            xerr=[[0] * len(p50), [max(0.0, q - p) for p, q in zip(p50, p99)]],
            fmt="none",
            ecolor="#333",
            capsize=2,
            linewidth=0.8,
        )
        for y_, r in zip(ys, ran):
            if r.get("status") != "ok":
                ax.annotate(
                    f" {r['status']}",
                    (0, y_),
                    xycoords=("axes fraction", "data"),
                    va="center",
                    fontsize=7,
                    color="#b00020",
                )
        ax.set_title(f"batch {b}: latency p50 (whisker: p99)", fontsize=9)
        ax.set_xlabel("ms per inference (log scale)")
        if any(p > 0 for p in p50):
            ax.set_xscale("log")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(ys)
    axes[0][0].set_yticklabels(labels, fontsize=7)
    handles = [plt.Rectangle((0, 0), 1, 1, color=color_of(fw)) for fw in order]
    fig.legend(
        handles,
        [label_of(fw) for fw in order],
        loc="lower center",
        ncol=max(1, len(order)),
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(f"{result.get('project')}: {result.get('threads')} thread(s)", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    written = []
    for name in (CHART_FILE, CHART_SVG):
        path = folder / name
        fig.savefig(path, dpi=110)
        written.append(path)
    plt.close(fig)
    return written


if __name__ == "__main__":
    draw(Path(sys.argv[1]))
