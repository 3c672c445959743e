"""``poisson``: a gradient-domain clone of the face into the frame (OpenCV
``seamlessClone``), then the feathered mask softens the seam as ``alpha`` does."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.faces.paste import alpha_blend
from pipeline.refine.blenders.base import Blender, Box


class PoissonBlend(Blender):
    THRESHOLD = 0.05  # alpha above which a pixel belongs to the cloned region

    def __call__(
        self, frame: np.ndarray, face_roi: np.ndarray, alpha: np.ndarray, box: Box
    ) -> np.ndarray:
        return alpha_blend(frame, self.clone(frame, face_roi, alpha, box), alpha, box)

    def clone(self, frame: np.ndarray, face_roi: np.ndarray, alpha: np.ndarray, box: Box):
        x0, y0, x1, y1 = box
        binary = (alpha > self.THRESHOLD).astype(np.uint8) * 255
        binary[[0, -1], :] = 0
        binary[:, [0, -1]] = 0
        if binary.sum() == 0:
            return face_roi
        bx, by, bw, bh = cv2.boundingRect(binary)
        center = (x0 + bx + bw // 2, y0 + by + bh // 2)
        try:
            cloned = cv2.seamlessClone(face_roi, frame, binary, center, cv2.NORMAL_CLONE)
        except cv2.error:  # the face touches the frame edge: no room for the boundary
            return face_roi
        return cloned[y0:y1, x0:x1]
