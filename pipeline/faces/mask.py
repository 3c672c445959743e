"""Face masks from landmarks: the region a swap model must reproduce."""

from __future__ import annotations

import cv2
import numpy as np

# Brows are raised by this share of the brow-to-chin distance so the forehead is inside.
_FOREHEAD_RAISE = 0.25


def hull_mask(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8 mask, 255 inside the convex hull of the jaw line and raised brows.

    landmarks: (68, 2) pixel coordinates in iBUG order, in the image the mask is for.
    """
    pts = np.asarray(landmarks, np.float64)
    brows = pts[17:27].copy()
    chin = pts[8]
    brows += (brows - chin) * _FOREHEAD_RAISE
    hull = cv2.convexHull(np.concatenate([pts[:17], brows]).astype(np.float32))
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(hull * 16).astype(np.int32), 255, cv2.LINE_AA, 4)
    return mask
