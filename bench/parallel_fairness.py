"""Fairness of running runtimes together: each runtime's median step time when the chosen ones
train in one session (the engine's schedule for that many runtimes: `parallel` with each pinned
to its own share of the cores; on a CPU with fewer cores than runtimes the engine's default,
`alternate`) against the same runtime alone on the same cores with the same threads; and the
wall time of the whole session against the alone runs one after another. Alone and together
rounds are interleaved (together, alone, together, alone...), so drift and other load on the
machine fall on both; per round pair the ratio together / alone, then the median ratio and its
spread (min-max) over the pairs. Prints figures; never pass/fail.

Goal (issues 3 and 16): ratio <= 1.10 for every runtime. Four runtimes on digits_mlp (issue 16):

    .venv/bin/python bench/parallel_fairness.py digits_mlp --frameworks all --rounds 3
    .venv/bin/python bench/parallel_fairness.py [PRESET] [--frameworks a,b] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.presets import load_project_arg  # noqa: E402
from engine.runtimes import DEFAULT_RUNTIMES, RUNTIMES, parse_runtimes  # noqa: E402
from engine.session import SCHEDULES, Session, core_plan, default_schedule  # noqa: E402
from engine.summary import build_summary  # noqa: E402

GOAL = 1.10


def run(preset: str, epochs: int, frameworks, schedule: str, pinning=None) -> tuple[dict, float]:
    """(per-runtime summary, wall seconds from start to the last runtime done)."""
    project = load_project_arg(preset)
    project.training["epochs"] = epochs
    with Session(project, frameworks=frameworks, schedule=schedule, pinning=pinning) as session:
        t0 = time.perf_counter()
        session.start()
        session.wait()
        wall = time.perf_counter() - t0
        out = build_summary(session)["frameworks"]
    for fw, s in out.items():
        if s.get("error") or s.get("step_time_median_s") is None:
            raise SystemExit(f"{fw} failed in {'+'.join(frameworks)}: {s.get('error')}")
    return out, wall


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("preset", nargs="?", default="digits_mlp")
    ap.add_argument(
        "--frameworks",
        default=",".join(DEFAULT_RUNTIMES),
        help=f"comma-separated among {', '.join(RUNTIMES)}, or 'all' (default: %(default)s)",
    )
    ap.add_argument("--rounds", type=int, default=4, help="together/alone round pairs")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--schedule", choices=SCHEDULES, help="default: the engine's for that many")
    args = ap.parse_args()
    fws = tuple(RUNTIMES) if args.frameworks == "all" else parse_runtimes(args.frameworks)
    schedule = args.schedule or default_schedule("cpu", runtimes=len(fws))
    plan = core_plan(fws, schedule)  # the session's own plan: alone runs get the same cores
    together: dict[str, list[float]] = {fw: [] for fw in fws}
    alone: dict[str, list[float]] = {fw: [] for fw in fws}
    p95: dict[str, dict[str, list[float]]] = {"together": {fw: [] for fw in fws}, "alone": {}}
    p95["alone"] = {fw: [] for fw in fws}
    walls: dict[str, list[float]] = {"together": [], "alone": []}
    for r in range(args.rounds):
        res, wall = run(args.preset, args.epochs, fws, schedule)
        walls["together"].append(wall)
        for fw in fws:
            together[fw].append(res[fw]["step_time_median_s"])
            p95["together"][fw].append(res[fw]["step_time_p95_s"])
        total = 0.0
        order = fws if r % 2 == 0 else fws[::-1]
        for fw in order:
            res, wall = run(args.preset, args.epochs, (fw,), "parallel", {fw: plan[fw]})
            alone[fw].append(res[fw]["step_time_median_s"])
            p95["alone"][fw].append(res[fw]["step_time_p95_s"])
            total += wall
        walls["alone"].append(total)
        ratios = "  ".join(f"{fw} {together[fw][-1] / alone[fw][-1]:.2f}" for fw in fws)
        print(f"round {r + 1}/{args.rounds}: {ratios}", file=sys.stderr, flush=True)

    print(
        f"{args.preset}, {args.epochs} epochs, {len(fws)} runtimes, schedule {schedule}; "
        f"{args.rounds} round pairs, together and alone interleaved (T A T A ...); "
        "median step time (ms), steady state"
    )
    print(
        f"{'runtime':<13}{'cores':<10}{'threads':>8}{'alone':>10}{'together':>10}"
        f"{'ratio':>8}{'spread':>12}{'goal':>8}"
    )
    for fw in fws:
        ratios = [t / a for t, a in zip(together[fw], alone[fw], strict=True)]
        med = statistics.median(ratios)
        print(
            f"{fw:<13}{str(plan[fw][0]):<10}{plan[fw][1]:>8}"
            f"{statistics.median(alone[fw]) * 1e3:>10.3f}"
            f"{statistics.median(together[fw]) * 1e3:>10.3f}"
            f"{med:>8.2f}{_spread(ratios):>12}{'<= 1.10':>8} {'ok' if med <= GOAL else 'OVER'}"
        )
        print(
            f"{'':<13}p95 alone {statistics.median(p95['alone'][fw]) * 1e3:.3f} ms, "
            f"together {statistics.median(p95['together'][fw]) * 1e3:.3f} ms"
        )
    wt, wa = walls["together"], walls["alone"]
    print(
        f"wall time, start to last done: together {statistics.median(wt):.1f} s "
        f"(spread {min(wt):.1f}-{max(wt):.1f}); alone one after another "
        f"{statistics.median(wa):.1f} s (spread {min(wa):.1f}-{max(wa):.1f}); "
        f"ratio {statistics.median(t / a for t, a in zip(wt, wa, strict=True)):.2f}"
    )
    print("ratio: median over round pairs of together / alone; spread: min-max of those ratios")
    print(f"goal: ratio <= {GOAL:.2f} for every runtime")


if __name__ == "__main__":
    main()
