"""Parallel fairness: each framework's median step time when both train at once (schedule
`parallel`, each pinned to its own half of the cores) against the same framework alone on the
same cores with the same threads, measured in one run. Prints figures; never pass/fail.

Goal (issue 3): within 10% of alone.
"""

from __future__ import annotations

import sys

from engine.presets import load_project_arg
from engine.session import Session
from engine.summary import build_summary

PRESET = sys.argv[1] if len(sys.argv) > 1 else "digits_mlp"
EPOCHS = 8


def run(frameworks, schedule="parallel", pinning=None):
    project = load_project_arg(PRESET)
    project.training["epochs"] = EPOCHS
    with Session(project, frameworks=frameworks, schedule=schedule, pinning=pinning) as session:
        session.start()
        session.wait()
        return build_summary(session)["frameworks"]


def main() -> None:
    both = run(("torch", "tensorflow"))
    plan = {fw: (both[fw]["cores"], both[fw]["threads"]) for fw in both}
    alone = {fw: run((fw,), pinning={fw: plan[fw]})[fw] for fw in both}
    print(f"{PRESET}, {EPOCHS} epochs; median step time (ms), steady state")
    print(f"{'framework':<12}{'cores':<10}{'threads':>8}{'alone':>10}{'parallel':>10}{'ratio':>8}")
    for fw in both:
        a, p = alone[fw]["step_time_median_s"], both[fw]["step_time_median_s"]
        print(
            f"{fw:<12}{str(plan[fw][0]):<10}{plan[fw][1]:>8}"
            f"{a * 1e3:>10.3f}{p * 1e3:>10.3f}{p / a:>8.2f}"
        )
        print(
            f"{'':<12}p95 alone {alone[fw]['step_time_p95_s'] * 1e3:.3f} ms, "
            f"parallel {both[fw]['step_time_p95_s'] * 1e3:.3f} ms"
        )
    print("goal: ratio <= 1.10 for each framework")


if __name__ == "__main__":
    main()
