"""Face detectors: one plugin per file, picked by ``detector.kind``.

A new detector subclasses ``Detector`` (base.py), returns boxes and scores for an RGB
frame, and is added to ``PLUGINS``; its config is a file in ``conf/detector/``.
Landmarks and embeddings stay dlib's (pipeline/faces/detect.py) whatever finds the box.
"""

from __future__ import annotations

from pipeline.faces.detectors.base import Detection, Detector
from pipeline.faces.detectors.cnn import MmodCnn
from pipeline.faces.detectors.hog import Hog
from pipeline.plugins import pick

PLUGINS: dict[str, type[Detector]] = {"hog": Hog, "cnn": MmodCnn}
KINDS = tuple(PLUGINS)


def make(kind: str) -> Detector:
    return pick(PLUGINS, kind, "detector")()


__all__ = ["KINDS", "PLUGINS", "Detection", "Detector", "make"]
