"""Dataset loading: an image_folder of 1,000 PNGs (64x64 RGB, 4 classes) decoded the first time
and read back from the cache the second, and MNIST-1D's generation. Prints figures; never
pass/fail.

Goal (issue 19): a cached image load under 0.5 s; 4,000 MNIST-1D signals under 1 s.

    .venv/bin/python bench/dataset_load.py [--images N] [--size S] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_pngs(folder: Path, n: int, size: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        cls = folder / f"class_{i % 4}"
        cls.mkdir(parents=True, exist_ok=True)
        # smooth gradients plus noise: compresses like a photo more than pure noise does
        base = np.linspace(0, 255, size, dtype=np.float32)[None, :, None]
        pixels = base * rng.uniform(0.3, 1.0, size=(1, 1, 3)) + rng.normal(0, 20, (size, size, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(cls / f"{i}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["TWINTRAIN_DATA_DIR"] = str(root / "app")
        from engine.data import images, mnist1d
        from engine.data.catalog import resolve

        start = time.perf_counter()
        write_pngs(root / "images", args.images, args.size)
        print(
            f"wrote {args.images} PNGs of {args.size}x{args.size}: "
            f"{time.perf_counter() - start:.2f} s"
        )
        ds = resolve({"name": "image_folder", "path": "images"})
        start = time.perf_counter()
        x, _, _ = images.load(ds, root)
        first = time.perf_counter() - start
        cached = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            x2, _, _ = images.load(ds, root)
            cached.append(time.perf_counter() - start)
        assert np.array_equal(x, x2)
        cache_bytes = sum(p.stat().st_size for p in (root / "app").rglob("*.npz"))
        print(f"image_folder first load (decode + write cache): {first:.3f} s, x {x.shape}")
        print(
            f"image_folder cached load: median {np.median(cached):.3f} s "
            f"(min {min(cached):.3f}, {args.repeats} loads), "
            f"cache file {cache_bytes / 2**20:.1f} MiB"
        )
        times = []
        for seed in range(args.repeats):
            start = time.perf_counter()
            mnist1d.make(4000, np.random.default_rng([seed, 0]))
            times.append(time.perf_counter() - start)
        print(f"mnist1d 4,000 signals: median {np.median(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
