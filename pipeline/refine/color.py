"""Colour transfer of the swapped face toward the target face, with temporal smoothing.

Modes (all computed inside the face region of the aligned crops):
  none  the decoder's colours as they are;
  rct   Reinhard et al. 2001: L*a*b* mean and standard deviation per channel;
  lct   linear colour transfer: mean and full 3x3 covariance in BGR (Pitie and Kokaram
        2007's linear Monge-Kantorovich map), which also matches channel correlations;
  hist  histogram matching per channel (scikit-image ``match_histograms``).
The statistics of rct and lct are smoothed over frames with an exponential moving
average (``smoothing`` = weight of the past), so the face does not flicker when the
per-frame estimate wobbles; hist has no statistics to smooth and follows each frame.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.exposure import match_histograms

MODES = ("none", "rct", "lct", "hist")


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_BGR2LAB)


def _bgr(lab: np.ndarray) -> np.ndarray:
    out = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2BGR)
    return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)


def _sqrtm(c: np.ndarray, inverse: bool = False) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    w = np.maximum(w, 1e-6)
    return (v * (w ** (-0.5 if inverse else 0.5))) @ v.T


class ColorTransfer:
    """Stateful over a clip: call once per frame, in order; ``reset()`` between clips."""

    def __init__(self, mode: str, smoothing: float = 0.0):
        if mode not in MODES:
            raise ValueError(f"colour mode {mode!r} is not one of {MODES}")
        self.mode, self.smoothing = mode, smoothing
        self.reset()

    def reset(self) -> None:
        self._state: tuple[np.ndarray, ...] | None = None

    def _smooth(self, *stats: np.ndarray) -> tuple[np.ndarray, ...]:
        if self._state is None or self.smoothing <= 0:
            self._state = stats
        else:
            a = self.smoothing
            self._state = tuple(a * old + (1 - a) * new for old, new in zip(self._state, stats))
        return self._state

    def __call__(self, face: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
        """``face`` recoloured so its ``region`` (bool, crop-sized) matches ``target``'s."""
        if self.mode == "none" or region.sum() < 16:
            return face
        if self.mode == "hist":
            src = face[region][:, None, :]
            ref = target[region][:, None, :]
            out = face.copy()
            out[region] = np.clip(match_histograms(src, ref, channel_axis=-1)[:, 0], 0, 255)
            return out
        if self.mode == "rct":
            fl, tl = _lab(face), _lab(target)
            fs, ts = fl[region], tl[region]
            mf, sf, mt, st = self._smooth(fs.mean(0), fs.std(0), ts.mean(0), ts.std(0))
            return _bgr((fl - mf) / np.maximum(sf, 1e-3) * st + mt)
        # lct
        f = face.reshape(-1, 3).astype(np.float64)
        fs, ts = f[region.ravel()], target[region].astype(np.float64)
        mf, cf, mt, ct = self._smooth(
            fs.mean(0), np.cov(fs, rowvar=False), ts.mean(0), np.cov(ts, rowvar=False)
        )
        sqrt_f_inv = _sqrtm(cf, inverse=True)
        middle = _sqrtm(_sqrtm(cf) @ ct @ _sqrtm(cf))
        transform = sqrt_f_inv @ middle @ sqrt_f_inv
        out = (f - mf) @ transform.T + mt
        return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(face.shape)


def region_stats(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """L*a*b* mean and standard deviation inside ``region``: (2, 3)."""
    lab = _lab(image)[region]
    return np.stack([lab.mean(0), lab.std(0)])
