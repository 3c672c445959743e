"""Face detection, 68 landmarks and a face embedding for real footage, with dlib.

The weights come inside the ``face_recognition_models`` package (installed from the
registry, nothing downloaded at run time).
The 68-point model is trained on iBUG 300-W, whose terms are non-commercial; the
landmark layout is the same as the synthetic renderer's, so alignment is one function.

``kind`` selects the detector plugin (pipeline/faces/detectors, the ``detector`` config
group): ``hog`` (default) or ``cnn``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from omegaconf import DictConfig

from pipeline.faces import detectors
from pipeline.faces.detectors.base import model_file


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels
    landmarks: np.ndarray  # (68, 2) float64, frame pixels (x, y)
    score: float
    embedding: np.ndarray | None = None  # filled in by whoever pays for it (FaceAnalyzer.embed)

    @property
    def size(self) -> float:
        """Face size: the larger side of the landmarks' bounding box (pixels)."""
        span = self.landmarks.max(0) - self.landmarks.min(0)
        return float(span.max())


class FaceAnalyzer:
    """Detect faces, fit 68 landmarks, and embed faces (128-d, dlib ResNet)."""

    def __init__(self, cfg: DictConfig):
        import dlib

        self.dlib = dlib
        self.cfg = cfg
        self._detector = detectors.make(cfg.kind)
        self._shape = dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))
        self._encoder = None

    def detect(self, frame: np.ndarray) -> list[Face]:
        """Faces in a BGR frame, largest first. Detection runs on a copy downscaled so
        its longer side is at most ``max_side`` (faces then need ~80 px there)."""
        h, w = frame.shape[:2]
        scale = min(1.0, self.cfg.max_side / max(h, w))
        small = frame if scale == 1.0 else cv2.resize(frame, None, fx=scale, fy=scale)
        rgb = np.ascontiguousarray(small[..., ::-1])
        found = self._detector(rgb, self.cfg.upsample)
        faces = []
        for corners, score in found:
            box = tuple(int(round(v / scale)) for v in corners)
            faces.append(Face(box, self.landmarks(frame, box), float(score)))
        return sorted(faces, key=lambda f: -f.size)

    def landmarks(self, frame: np.ndarray, box, rgb_ready: bool = False) -> np.ndarray:
        """68 landmarks inside ``box``: also what tracking calls between detections.

        The model reads pixels near the box only, so a BGR frame is cut to the box and a
        margin of one box size before its colour order is swapped: the same landmarks
        (tested) for a 1080p frame at a fraction of a whole-frame copy."""
        x0, y0, x1, y1 = (int(v) for v in box)
        ox = oy = 0
        if rgb_ready:
            rgb = frame
        else:
            h, w = frame.shape[:2]
            m = max(x1 - x0, y1 - y0)
            ox, oy = max(x0 - m, 0), max(y0 - m, 0)
            part = frame[oy : min(y1 + m, h), ox : min(x1 + m, w)]
            rgb = np.ascontiguousarray(part[..., ::-1])
        rect = self.dlib.rectangle(x0 - ox, y0 - oy, x1 - ox, y1 - oy)
        shape = self._shape(rgb, rect)
        return np.array([[p.x + ox, p.y + oy] for p in shape.parts()], np.float64)

    def embed(self, frame: np.ndarray, face: Face) -> np.ndarray:
        """The 128-d dlib face descriptor (same person: distance < ~0.6)."""
        if self._encoder is None:
            self._encoder = self.dlib.face_recognition_model_v1(
                str(model_file("dlib_face_recognition_resnet_model_v1.dat"))
            )
        rgb = np.ascontiguousarray(frame[..., ::-1])
        rect = self.dlib.rectangle(*face.box)
        parts = [self.dlib.point(int(x), int(y)) for x, y in face.landmarks]
        shape = self.dlib.full_object_detection(rect, parts)
        return np.array(self._encoder.compute_face_descriptor(rgb, shape))


def box_of(landmarks: np.ndarray, grow: float = 0.15) -> tuple[int, int, int, int]:
    """A detector-like box around landmarks, for tracking between detections."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    pad = (hi - lo) * grow
    x0, y0 = lo - pad
    x1, y1 = hi + pad
    return int(x0), int(y0), int(x1), int(y1)
