"""What matched mode costs PyTorch: TwinTrain's Keras-formula optimizers against torch.optim's
stock ones, per optimizer, on the same model, weights and batches (engine.summary quotes these
figures in the run's timing note).

One PyTorch process, single-threaded; the two modes take turns in chunks of steps (A B A B ...)
so machine drift falls on both alike. Prints the median step time of each mode, the ratio
matched / stock per round, and the median ratio with its spread. Never pass/fail.

    .venv/bin/python bench/matched_optimizer_cost.py [PRESET] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data.load import load_data  # noqa: E402
from engine.presets import load_project_arg  # noqa: E402
from engine.spec.graph import infer  # noqa: E402
from engine.weights import init_weights  # noqa: E402

CHUNK = 40
OPTIMIZERS = {
    "sgd": {"name": "sgd", "learning_rate": 0.01},
    "sgd+momentum": {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9},
    "adam": {"name": "adam", "learning_rate": 0.001},
    "adamw": {"name": "adamw", "learning_rate": 0.001},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.001},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("preset", nargs="?", default="digits_mlp")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()

    import torch

    from engine.backends.torch_backend import TorchBackend

    torch.set_num_threads(1)
    print(
        f"preset {args.preset}, torch {torch.__version__}, 1 thread, "
        f"{args.rounds} rounds of {CHUNK} steps per mode"
    )
    print(f"{'optimizer':<14} {'matched ms':>10} {'stock ms':>9} {'ratio':>7}  spread")
    for label, opt in OPTIMIZERS.items():
        project = load_project_arg(args.preset)
        project.training["optimizer"] = dict(opt)
        graph = infer(project)
        weights = init_weights(project, graph, seed=0)
        data = load_data(project)
        bs = int(project.training.get("batch_size", 32))
        batches = [
            (data.x_train[i], data.y_train[i]) for i in data.batch_indices(0, bs, 0) if len(i) == bs
        ]
        backends = {}
        for mode in ("matched", "native"):
            b = TorchBackend(project, threads=1)
            b.build(weights, optimizer_mode=mode)
            for x, y in batches[:20]:  # warm-up
                b.train_step(x, y)
            backends[mode] = b
        times: dict[str, list[float]] = {"matched": [], "native": []}
        ratios = []
        k = 0
        for _ in range(args.rounds):
            med = {}
            for mode, b in backends.items():
                chunk = []
                for _ in range(CHUNK):
                    x, y = batches[k % len(batches)]
                    k += 1
                    t0 = time.perf_counter()
                    b.train_step(x, y)
                    chunk.append(time.perf_counter() - t0)
                med[mode] = statistics.median(chunk)
                times[mode] += chunk
            ratios.append(med["matched"] / med["native"])
        m, s = statistics.median(times["matched"]) * 1e3, statistics.median(times["native"]) * 1e3
        q = np.percentile(ratios, [25, 75])
        print(
            f"{label:<14} {m:>10.3f} {s:>9.3f} {statistics.median(ratios):>7.3f}  "
            f"IQR {q[0]:.3f}-{q[1]:.3f}"
        )


if __name__ == "__main__":
    main()
