"""Every execution mode of every installed runtime, side by side on the same model (issue 17).

For each preset and each runtime, one session trains all of the runtime's modes that this device
offers (the ``alternate`` schedule: one mode at a time with every core, in turns, so drift and
other load fall on every mode alike), from the same weights on the same batches. Printed per
mode: the first step (trace and compile included), the graphs compiled and the recompiles, the
steady median and p95 step (after the last recompile), the ratio of the runtime's default mode's
median to this mode's (above 1: this mode is faster), and the break-even step count. Then, per
preset, the fastest mode of each runtime against its default mode, and whether it reaches the
issue's goal (>= 1.2x in steady state). Prints figures; never pass/fail.

    .venv/bin/python bench/modes.py digits_mlp digits_cnn sine_lstm [--epochs N] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.fastest import candidates  # noqa: E402
from engine.presets import load_project_arg  # noqa: E402
from engine.runtimes import installed_runtimes, label_of, split_column  # noqa: E402
from engine.session import Session  # noqa: E402
from engine.summary import build_summary  # noqa: E402

GOAL = 1.2


def run_modes(preset: str, runtime: str, epochs: int, device: str) -> dict[str, dict]:
    """Every mode of ``runtime`` in one session: {column: summary figures}."""
    project = load_project_arg(preset)
    project.training["epochs"] = epochs
    columns = candidates(runtime, device)
    with Session(project, frameworks=columns, device=device, schedule="alternate") as session:
        session.start()
        session.wait()
        return build_summary(session)["frameworks"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", default=["digits_mlp", "digits_cnn", "sine_lstm"])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument(
        "--runtimes", default=",".join(installed_runtimes()), help="comma-separated runtime ids"
    )
    args = ap.parse_args()
    runtimes = [r for r in args.runtimes.split(",") if r]
    verdicts: dict[str, list[str]] = {}
    reached: dict[str, int] = {rt: 0 for rt in runtimes}
    for preset in args.presets:
        print(f"\n== {preset}, {args.epochs} epochs, device {args.device}, schedule alternate")
        print(
            f"{'column':<26}{'first step s':>13}{'graphs':>8}{'recomp':>8}"
            f"{'median ms':>11}{'p95 ms':>10}{'vs default':>12}  break-even"
        )
        for rt in runtimes:
            figures = run_modes(preset, rt, args.epochs, args.device)
            default = figures.get(rt, {}).get("step_time_median_s")
            best, best_ratio = rt, 1.0
            for column, fig in figures.items():
                if fig.get("error"):
                    print(f"{label_of(column):<26}  failed: {fig['error']}")
                    continue
                median = fig["step_time_median_s"]
                ratio = default / median if default and median else None
                if ratio and ratio > best_ratio:
                    best, best_ratio = column, ratio
                first = fig.get("first_step_s")
                print(
                    f"{label_of(column):<26}{first if first is None else f'{first:.3f}':>13}"
                    f"{fig.get('graphs', 0):>8}{fig.get('recompiles', 0):>8}"
                    f"{_ms(median):>11}{_ms(fig['step_time_p95_s']):>10}"
                    f"{'-' if ratio is None else f'{ratio:.2f}x':>12}  "
                    f"{fig.get('break_even_text') or '-'}"
                )
            mode = split_column(best)[1]
            reached[rt] += best_ratio >= GOAL
            verdicts.setdefault(preset, []).append(
                f"{label_of(rt)}: fastest {mode} at {best_ratio:.2f}x the default "
                f"({'reaches' if best_ratio >= GOAL else 'below'} {GOAL}x)"
            )
    print("\n== fastest mode against the default, steady median step")
    for preset, lines in verdicts.items():
        print(f"{preset}: " + "; ".join(lines))
    for rt, n in reached.items():
        print(
            f"{label_of(rt)}: its fastest mode beats its default by >= {GOAL}x "
            f"on {n} of {len(verdicts)} presets"
        )
    print("vs default: the default mode's median step / this mode's (above 1: faster)")


if __name__ == "__main__":
    main()
