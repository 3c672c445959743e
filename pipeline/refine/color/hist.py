"""``hist``: histogram matching per channel (scikit-image ``match_histograms``). It has
no statistics to smooth and follows each frame."""

from __future__ import annotations

import numpy as np
from skimage.exposure import match_histograms

from pipeline.refine.color.base import ColorTransfer


class HistogramMatch(ColorTransfer):
    def transfer(self, face: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
        src = face[region][:, None, :]
        ref = target[region][:, None, :]
        out = face.copy()
        out[region] = np.clip(match_histograms(src, ref, channel_axis=-1)[:, 0], 0, 255)
        return out
