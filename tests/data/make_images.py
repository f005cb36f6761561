"""Writes tests/data/shapes/: 3 classes (circle, square, triangle) x 8 PNGs of 16x16 pixels.

Run from the repository root: ``python tests/data/make_images.py``. The drawing is deterministic
(positions and sizes from a seeded generator), so the files are the same on every run. Modes vary
on purpose (RGB, grayscale, paletted) since an image folder takes any mode.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "shapes"
SIZE = 16
MODES = ("RGB", "L", "P")


def draw(shape: str, rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), (0, 0, 0))
    d = ImageDraw.Draw(img)
    r = rng.randint(4, 6)
    cx, cy = rng.randint(r + 1, SIZE - r - 2), rng.randint(r + 1, SIZE - r - 2)
    color = (rng.randint(150, 255), rng.randint(150, 255), rng.randint(150, 255))
    if shape == "circle":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
    elif shape == "square":
        d.rectangle((cx - r, cy - r, cx + r, cy + r), fill=color)
    else:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=color)
    return img


def main() -> None:
    rng = random.Random(19)
    for shape in ("circle", "square", "triangle"):
        folder = OUT / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(8):
            img = draw(shape, rng)
            mode = MODES[i % len(MODES)]
            img = img.convert(mode) if mode != "P" else img.convert("P", palette=Image.ADAPTIVE)
            img.save(folder / f"{shape}_{i}.png", optimize=True)


if __name__ == "__main__":
    main()
