"""The two views of a face the evaluators read.

* identity crops: the aligned crop (the same similarity as collect/generate), so identity
  is judged on the face itself, pose and framing factored out;
* pose crops: the same centre and scale but no rotation, so roll stays visible to the
  performance regressor.
"""

from __future__ import annotations

import numpy as np

from pipeline.faces.align import alignment_matrix, matrix_scale, warp_face

CROP = 64


def identity_crop(frame: np.ndarray, landmarks: np.ndarray, size: int = CROP) -> np.ndarray:
    return warp_face(frame, alignment_matrix(landmarks, size), size)


def pose_matrix(landmarks: np.ndarray, size: int = CROP) -> np.ndarray:
    """The alignment's scale and centre without its rotation."""
    m = alignment_matrix(landmarks, size)
    s = matrix_scale(m)
    inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))
    centre = inv[:2, :2] @ np.array([size / 2, size / 2]) + inv[:2, 2]
    return np.array([[s, 0, size / 2 - s * centre[0]], [0, s, size / 2 - s * centre[1]]])


def pose_crop(frame: np.ndarray, landmarks: np.ndarray, size: int = CROP) -> np.ndarray:
    return warp_face(frame, pose_matrix(landmarks, size), size)
