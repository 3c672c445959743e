"""The blender's contract."""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels


class Blender:
    def __call__(
        self, frame: np.ndarray, face_roi: np.ndarray, alpha: np.ndarray, box: Box
    ) -> np.ndarray:
        """A copy of ``frame`` with ``face_roi`` (the box's pixels, BGR uint8) blended in
        through ``alpha`` (box-sized float32 in [0, 1], already feathered)."""
        raise NotImplementedError
