"""``rct``: Reinhard et al. 2001, L*a*b* mean and standard deviation per channel."""

from __future__ import annotations

import numpy as np

from pipeline.refine.color.base import ColorTransfer, bgr, lab


class Reinhard(ColorTransfer):
    def transfer(self, face: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
        fl, tl = lab(face), lab(target)
        fs, ts = fl[region], tl[region]
        mf, sf, mt, st = self.smooth(fs.mean(0), fs.std(0), ts.mean(0), ts.std(0))
        return bgr((fl - mf) / np.maximum(sf, 1e-3) * st + mt)
