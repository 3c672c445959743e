"""``cnn``: dlib's MMOD CNN detector, more robust to pose and small faces, ~2 s per frame
on a CPU."""

from __future__ import annotations

import numpy as np

from pipeline.faces.detectors.base import Detection, Detector, model_file


class MmodCnn(Detector):
    def __init__(self):
        import dlib

        self._cnn = dlib.cnn_face_detection_model_v1(
            str(model_file("mmod_human_face_detector.dat"))
        )

    def __call__(self, rgb: np.ndarray, upsample: int) -> list[Detection]:
        found = self._cnn(rgb, upsample)
        return [
            ((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), float(d.confidence))
            for d in found
        ]
