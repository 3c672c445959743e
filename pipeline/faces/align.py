"""Face alignment: one similarity transform from landmarks to the template, for every stage.

Collect, generate and real-footage detection all call ``alignment_matrix`` and
``warp_face``, so training crops and swap crops cannot drift apart. The jaw line is left
out of the fit (as faceswap does): it slides along the face outline with pose, while
brows, eyes, nose and mouth are fixed to the face.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.transform import SimilarityTransform

from pipeline.faces.template import HEAD_COVERAGE, template_points

FIT_POINTS = slice(17, 68)


def alignment_matrix(
    landmarks: np.ndarray, size: int, coverage: float = HEAD_COVERAGE
) -> np.ndarray:
    """The (2, 3) similarity that maps frame coordinates into a ``size`` crop covering
    ``coverage`` head units (``template.crop_window``).

    landmarks: (68, 2) frame pixel coordinates (x, y) in iBUG 300-W order.
    """
    src = np.asarray(landmarks, np.float64)[FIT_POINTS]
    dst = template_points(size, coverage)[FIT_POINTS]
    tform = SimilarityTransform.from_estimate(src, dst)
    if not tform:
        raise ValueError(f"landmarks do not determine an alignment: {tform}")
    return tform.params[:2].astype(np.float64)


def warp_face(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The aligned ``size`` x ``size`` crop of ``frame`` under ``matrix``."""
    # warpAffine has no INTER_AREA: when shrinking a lot, pre-blur to avoid aliasing.
    # Only the part of the frame the crop samples is blurred (a face is a small share of
    # a large frame); the margin keeps the blur inside it as it is on the whole frame.
    scale = matrix_scale(matrix)
    if scale < 0.5:
        sigma = 0.5 / scale
        x0, y0, x1, y1 = crop_footprint(matrix, size, frame.shape[:2], int(np.ceil(4 * sigma)) + 2)
        if x1 - x0 > 1 and y1 - y0 > 1:
            frame = cv2.GaussianBlur(frame[y0:y1, x0:x1], (0, 0), sigma)
            matrix = np.array(matrix, np.float64)
            matrix[:, 2] += matrix[:, :2] @ np.array([x0, y0], np.float64)
    return cv2.warpAffine(
        frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )


def crop_footprint(
    matrix: np.ndarray, size: int, shape: tuple[int, int], margin: int = 1
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the frame pixels a ``size`` crop under ``matrix`` covers, plus
    ``margin``, clipped to the frame of ``shape`` (H, W)."""
    inv = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64)
    pts = corners @ inv[:, :2].T + inv[:, 2]
    h, w = shape
    x0, y0 = np.floor(pts.min(0)).astype(int) - margin
    x1, y1 = np.ceil(pts.max(0)).astype(int) + margin
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to points (N, 2)."""
    pts = np.asarray(points, np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def matrix_scale(matrix: np.ndarray) -> float:
    """The similarity's scale factor (crop pixels per frame pixel)."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
