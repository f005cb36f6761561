"""MNIST-1D (Greydanus 2020, "Scaling down deep learning"), generated offline from a seed.

Written from the paper's description, never downloaded: ten hand-drawn 1-D digit templates of 12
points; each sample takes one template, pads it with zeros (36 to 60 points), stretches it to 72
points, scales it by up to +-20 %, shifts it circularly by up to 47 points, fills the zero padding
with correlated noise (Gaussian-smoothed, sigma 2), adds white noise, shears it (a random linear
trend) and resamples it to 40 points. The settings are the paper's defaults; the whole batch is
made with array operations, so 4,000 samples take a few milliseconds, identical for a seed.
"""

from __future__ import annotations

import numpy as np

LENGTH = 40  # points per signal
CLASSES = 10
TEMPLATE_LEN = 12
PADDING = (36, 60)
SCALE_COEFF = 0.4
MAX_TRANSLATION = 48
CORR_NOISE = 0.25
IID_NOISE = 2e-2
SHEAR = 0.75
_WIDE = TEMPLATE_LEN + PADDING[1]  # 72 points after the stretch

_DRAWN = np.array(
    [
        [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],  # 0
        [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],  # 1
        [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],  # 2
        [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],  # 3
        [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],  # 4
        [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],  # 5
        [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],  # 6
        [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],  # 7
        [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],  # 8
        [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],  # 9
    ]
)


def templates() -> np.ndarray:
    """The ten templates [10, 12], whitened and shifted to start at 0 (as in the paper)."""
    t = _DRAWN - _DRAWN.mean(axis=1, keepdims=True)
    t = t / t.std(axis=1, keepdims=True)
    return t - t[:, :1]


def _resample(x: np.ndarray, lengths: np.ndarray, n_out: int) -> np.ndarray:
    """Each row's first ``lengths[i]`` points linearly interpolated to ``n_out`` points."""
    pos = np.linspace(0.0, 1.0, n_out)[None, :] * (lengths[:, None] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, lengths[:, None] - 1)
    frac = pos - lo
    rows = np.arange(len(x))[:, None]
    return x[rows, lo] * (1 - frac) + x[rows, hi] * frac


def _smooth(noise: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """A Gaussian filter along each row, edges reflected (scipy's gaussian_filter1d default)."""
    radius = int(4 * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.concatenate(
        [noise[:, radius - 1 :: -1], noise, noise[:, : -radius - 1 : -1]], axis=1
    )
    windows = np.lib.stride_tricks.sliding_window_view(padded, len(k), axis=1)
    out: np.ndarray = windows @ k
    return out


def make(n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x [n, 40, 1] float32, y [n] int64): classes 0..9 in turn, each sample drawn from rng."""
    y = np.arange(n_samples, dtype=np.int64) % CLASSES
    eps = 1e-8  # the paper's: keeps the template's own zeros out of the noise mask
    pad = PADDING[0] + (rng.random(n_samples) * (PADDING[1] - PADDING[0] + 1)).astype(np.int64)
    x = np.zeros((n_samples, _WIDE))
    x[:, :TEMPLATE_LEN] = templates()[y] + eps
    x = _resample(x, TEMPLATE_LEN + pad, _WIDE)  # pad with zeros, then stretch to 72 points
    x *= 1 + SCALE_COEFF * (rng.random((n_samples, 1)) - 0.5)
    shift = rng.integers(0, MAX_TRANSLATION, size=n_samples)
    cols = (np.arange(_WIDE)[None, :] - shift[:, None]) % _WIDE
    x = x[np.arange(n_samples)[:, None], cols]
    corr = _smooth(CORR_NOISE * rng.standard_normal(x.shape))
    x = np.where(x != 0, x, corr)
    x = x + IID_NOISE * rng.standard_normal(x.shape)
    coeff = SHEAR * (rng.random((n_samples, 1)) - 0.5)
    x = x - coeff * np.linspace(-0.5, 0.5, _WIDE)[None, :]
    x = _resample(x, np.full(n_samples, _WIDE), LENGTH)
    return x[:, :, None].astype(np.float32), y
