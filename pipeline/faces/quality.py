"""Cheap per-face measures the real-footage filters use."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.fft import dctn


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian of the grey crop: low for blurred faces."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def yaw_degrees(landmarks: np.ndarray) -> float:
    """Head yaw estimated from 68 landmarks: the nose tip's offset from the eyes' midline,
    relative to the eye distance (0 facing the camera, about +-45 at a half profile)."""
    left, right = landmarks[36:42].mean(0), landmarks[42:48].mean(0)
    nose = landmarks[30]
    axis = right - left
    span = np.linalg.norm(axis)
    if span < 1e-6:
        return 90.0
    offset = np.dot(nose - (left + right) / 2, axis / span) / span
    return float(np.degrees(np.arcsin(np.clip(offset * 2.0, -1.0, 1.0))))


def phash(crop: np.ndarray) -> int:
    """64-bit perceptual hash: signs of the 8x8 lowest DCT terms against their median."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
    low = dctn(small, norm="ortho")[:8, :8].ravel()
    bits = low > np.median(low[1:])
    return int(np.packbits(bits).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
