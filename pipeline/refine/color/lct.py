"""``lct``: linear colour transfer, mean and full 3x3 covariance in BGR (Pitie and
Kokaram 2007's linear Monge-Kantorovich map), which also matches channel correlations."""

from __future__ import annotations

import numpy as np

from pipeline.refine.color.base import ColorTransfer


def _sqrtm(c: np.ndarray, inverse: bool = False) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    w = np.maximum(w, 1e-6)
    return (v * (w ** (-0.5 if inverse else 0.5))) @ v.T


class LinearTransfer(ColorTransfer):
    def transfer(self, face: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
        f = face.reshape(-1, 3).astype(np.float64)
        fs, ts = f[region.ravel()], target[region].astype(np.float64)
        mf, cf, mt, ct = self.smooth(
            fs.mean(0), np.cov(fs, rowvar=False), ts.mean(0), np.cov(ts, rowvar=False)
        )
        sqrt_f_inv = _sqrtm(cf, inverse=True)
        middle = _sqrtm(_sqrtm(cf) @ ct @ _sqrtm(cf))
        transform = sqrt_f_inv @ middle @ sqrt_f_inv
        out = (f - mf) @ transform.T + mt
        return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(face.shape)
