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


# Lower eyelids (outer corner to inner, both eyes) and the nose's lower edge, iBUG order.
_SKIN_BAND = [36, 41, 40, 39, 42, 47, 46, 45, 35, 34, 33, 32, 31]


def skin_mask(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: cheeks and nose between the lower eyelids and the nose's lower edge.

    Bare skin on every face: no brows, eyes, lips or beard, whose colours are the
    person's and not the light's, so colour statistics taken here transfer skin tone
    without flattening the features.
    """
    pts = np.asarray(landmarks, np.float32)
    band = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(
        band, np.round(cv2.convexHull(pts[_SKIN_BAND]) * 16).astype(np.int32), 255, cv2.LINE_AA, 4
    )
    eyes = np.zeros(shape, np.uint8)
    for eye in (pts[36:42], pts[42:48]):
        cv2.fillConvexPoly(
            eyes, np.round(cv2.convexHull(eye) * 16).astype(np.int32), 255, cv2.LINE_AA, 4
        )
    grow = max(1, int(round(0.03 * np.ptp(pts[:, 0]))))
    eyes = cv2.dilate(eyes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    return (band > 127) & (eyes < 128)
