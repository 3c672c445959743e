"""``alpha``: the face over the frame through the feathered mask."""

from __future__ import annotations

import numpy as np

from pipeline.faces.paste import alpha_blend
from pipeline.refine.blenders.base import Blender, Box


class AlphaBlend(Blender):
    def __call__(
        self, frame: np.ndarray, face_roi: np.ndarray, alpha: np.ndarray, box: Box
    ) -> np.ndarray:
        return alpha_blend(frame, face_roi, alpha, box)
