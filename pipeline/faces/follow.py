"""Follow one face through a clip: detect every k frames, fit landmarks every frame.

Between detections the previous frame's landmarks give the box the landmark model fits
in (dlib's predictor needs only a rough box), which costs < 1 ms instead of a detection's
~24 ms. When a detection finds nothing, the previous box is kept (detectors miss a face
now and then) and detection is retried on every frame; after ``max_lost`` misses in a row
the face counts as gone, until a detection finds it again. With several faces the tracked one
is the closest to the previous position, or on the first frame the one most like a
reference embedding (else the largest).
"""

from __future__ import annotations

import numpy as np

from pipeline.faces.detect import Face, FaceAnalyzer, box_of


class FaceFollower:
    def __init__(
        self,
        analyzer: FaceAnalyzer,
        redetect_every: int = 5,
        max_lost: int = 3,
        reference: np.ndarray | None = None,
    ):
        self.fa, self.every, self.max_lost = analyzer, max(1, redetect_every), max_lost
        self.reference = reference
        self.prev: np.ndarray | None = None
        self.lost = 0
        self.t = 0
        self.counts = {"detected": 0, "tracked": 0, "kept_box": 0, "no_face": 0}

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        """The (68, 2) landmarks of the tracked face, or None."""
        t, self.t = self.t, self.t + 1
        if self.prev is None or self.lost or t % self.every == 0:
            faces = self.fa.detect(frame)
            if faces:
                face = self._choose(frame, faces)
                self.prev, self.lost = face.landmarks, 0
                self.counts["detected"] += 1
                return face.landmarks
            if self.prev is None or self.lost >= self.max_lost:
                self.prev = None
                self.counts["no_face"] += 1
                return None
            self.lost += 1
            self.counts["kept_box"] += 1
        else:
            self.counts["tracked"] += 1
        self.prev = self.fa.landmarks(frame, box_of(self.prev))
        return self.prev

    def _choose(self, frame: np.ndarray, faces: list[Face]) -> Face:
        if len(faces) == 1:
            return faces[0]
        if self.prev is not None:
            centre = self.prev.mean(0)
            return min(faces, key=lambda f: np.linalg.norm(f.landmarks.mean(0) - centre))
        if self.reference is not None:
            return min(
                faces, key=lambda f: np.linalg.norm(self.fa.embed(frame, f) - self.reference)
            )
        return faces[0]
