"""``hog``: dlib's HOG + linear SVM frontal detector, ~24 ms per 640x480 frame on a core."""

from __future__ import annotations

import numpy as np

from pipeline.faces.detectors.base import Detection, Detector


class Hog(Detector):
    def __init__(self):
        import dlib

        self._hog = dlib.get_frontal_face_detector()

    def __call__(self, rgb: np.ndarray, upsample: int) -> list[Detection]:
        rects, scores, _ = self._hog.run(rgb, upsample, 0.0)
        return [
            ((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores)
        ]
