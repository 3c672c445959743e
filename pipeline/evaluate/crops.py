"""The two views of a face the evaluators read.

* identity crops: the inner face (brows to chin, jaw to jaw) aligned with the same
  similarity as collect/generate, outside the landmark hull filled with grey, so identity
  is judged on the face a swap replaces: not on hair, ears or background, which a face
  swap keeps from the target, and with pose and framing factored out;
* pose crops: the same centre and scale but no rotation, so roll stays visible to the
  performance regressor.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.faces.align import alignment_matrix, matrix_scale, transform_points, warp_face
from pipeline.faces.mask import hull_mask

CROP = 64
IDENTITY_COVERAGE = 1.5  # head units: the landmark hull with the forehead just inside
_GREY = np.full((CROP, CROP, 3), 128, np.uint8)


def identity_crop(frame: np.ndarray, landmarks: np.ndarray, size: int = CROP) -> np.ndarray:
    """(size, size, 3) uint8: the inner face, grey outside its landmark hull."""
    m = alignment_matrix(landmarks, size, IDENTITY_COVERAGE)
    crop = warp_face(frame, m, size)
    alpha = hull_mask(transform_points(landmarks, m), (size, size)).astype(np.float32) / 255
    grey = _GREY if size == CROP else np.full_like(crop, 128)
    return cv2.blendLinear(crop, grey, alpha, 1 - alpha)


def pose_matrix(landmarks: np.ndarray, size: int = CROP) -> np.ndarray:
    """The alignment's scale and centre without its rotation."""
    m = alignment_matrix(landmarks, size)
    s = matrix_scale(m)
    inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))
    centre = inv[:2, :2] @ np.array([size / 2, size / 2]) + inv[:2, 2]
    return np.array([[s, 0, size / 2 - s * centre[0]], [0, s, size / 2 - s * centre[1]]])


def pose_crop(frame: np.ndarray, landmarks: np.ndarray, size: int = CROP) -> np.ndarray:
    return warp_face(frame, pose_matrix(landmarks, size), size)
