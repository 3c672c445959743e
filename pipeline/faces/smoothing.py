"""Temporal smoothing of per-frame landmarks, so an aligned face does not jitter.

``savgol`` (Savitzky-Golay, SciPy) fits a low-order polynomial over a centred window: it
needs the whole track and keeps fast motion's shape. ``one_euro`` (Casiez et al., CHI
2012) is causal, for streams: a low-pass whose cut-off rises with speed, so slow drift is
smoothed hard and fast motion lags little. Frames without a face (NaN) are left out and
split the track into segments smoothed on their own.
"""

from __future__ import annotations

import math

import numpy as np
from omegaconf import DictConfig
from scipy.signal import savgol_filter

METHODS = ("none", "savgol", "one_euro")


def smooth_track(points: np.ndarray, cfg: DictConfig, fps: float) -> np.ndarray:
    """Smooth (T, K, 2) points over time; rows that are NaN stay NaN."""
    pts = np.asarray(points, np.float64)
    if cfg.method == "none":
        return pts.copy()
    out = pts.copy()
    valid = np.isfinite(pts).all(axis=(1, 2))
    for start, stop in _segments(valid):
        seg = pts[start:stop]
        if cfg.method == "savgol":
            window = min(cfg.window, (stop - start) // 2 * 2 - 1)
            if window > cfg.order:
                out[start:stop] = savgol_filter(seg, window, cfg.order, axis=0, mode="interp")
        else:
            out[start:stop] = one_euro(seg, fps, cfg.min_cutoff, cfg.beta, cfg.d_cutoff)
    return out


def one_euro(
    seg: np.ndarray, fps: float, min_cutoff: float, beta: float, d_cutoff: float
) -> np.ndarray:
    """The One-Euro filter along axis 0, every coordinate at once."""

    def alpha(cutoff):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * fps)

    out = np.empty_like(seg)
    x_prev, dx_prev = seg[0], np.zeros_like(seg[0])
    out[0] = x_prev
    a_d = alpha(d_cutoff)
    for t in range(1, len(seg)):
        dx = (seg[t] - x_prev) * fps
        dx_prev = a_d * dx + (1 - a_d) * dx_prev
        a = alpha(min_cutoff + beta * np.abs(dx_prev))
        x_prev = a * seg[t] + (1 - a) * x_prev
        out[t] = x_prev
    return out


def jitter_energy(points: np.ndarray) -> float:
    """Mean size of the frame-to-frame change of the second difference (pixels): what a
    viewer sees as shake, largely blind to smooth motion."""
    pts = np.asarray(points, np.float64)
    d2 = pts[2:] - 2 * pts[1:-1] + pts[:-2]
    ok = np.isfinite(d2).all(axis=(1, 2))
    return float(np.linalg.norm(d2[ok], axis=-1).mean()) if ok.any() else 0.0


def _segments(valid: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], valid.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2]))
