"""What every colour transfer shares: the call on a crop and its region, and the
smoothing of its statistics over a clip."""

from __future__ import annotations

import cv2
import numpy as np


def lab(image: np.ndarray) -> np.ndarray:
    """BGR uint8 -> float32 L*a*b*."""
    return cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_BGR2LAB)


def bgr(lab_image: np.ndarray) -> np.ndarray:
    """float L*a*b* -> BGR uint8."""
    out = cv2.cvtColor(lab_image.astype(np.float32), cv2.COLOR_LAB2BGR)
    return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)


def region_stats(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """L*a*b* mean and standard deviation inside ``region``: (2, 3)."""
    values = lab(image)[region]
    return np.stack([values.mean(0), values.std(0)])


class ColorTransfer:
    """Stateful over a clip: call once per frame, in order; ``reset()`` between clips.

    Statistics passed through ``smooth`` follow an exponential moving average
    (``smoothing`` = weight of the past), so the face does not flicker when the per-frame
    estimate wobbles.
    """

    MIN_REGION = 16  # pixels: fewer say nothing about the face's colour

    def __init__(self, smoothing: float = 0.0):
        self.smoothing = smoothing
        self.reset()

    def reset(self) -> None:
        self._state: tuple[np.ndarray, ...] | None = None

    def smooth(self, *stats: np.ndarray) -> tuple[np.ndarray, ...]:
        if self._state is None or self.smoothing <= 0:
            self._state = stats
        else:
            a = self.smoothing
            self._state = tuple(a * old + (1 - a) * new for old, new in zip(self._state, stats))
        return self._state

    def __call__(self, face: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
        """``face`` recoloured so its ``region`` (bool, crop-sized) matches ``target``'s."""
        if region.sum() < self.MIN_REGION:
            return face
        return self.transfer(face, target, region)

    def transfer(self, face: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
        raise NotImplementedError
