"""``none``: the decoder's colours as they are."""

from __future__ import annotations

import numpy as np

from pipeline.refine.color.base import ColorTransfer


class Unchanged(ColorTransfer):
    def transfer(self, face: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
        return face
