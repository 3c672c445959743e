"""Files the collect stage writes: face folders with an index, and target clip folders.

data/faces/<identity>/
    00000.png ...        aligned crops (crop_size square, BGR PNG)
    masks/00000.png ...  landmark-hull masks (uint8, 255 = face)
    index.json           per face: file, mask, landmarks (crop pixels), source frame
    identity.json        provenance: synthetic parameters (or a consent record)
data/targets/<clip>/
    video.mp4            the clip to swap: H.264 + AAC soundtrack
    ground_truth.mp4     what a perfect swap produces (same performance, other identity)
    track.npz            per frame: landmarks, visibility, performance of both renders
    meta.json            kind (video), identities, fps, frame count, size, renderer version
data/targets/<stills>/
    images/00000.png ... the images to swap (the last has no face)
    truth/00000.png ...  what a perfect swap produces
    faces.json           per image: landmarks (68, 2) or null where there is no face
    meta.json            kind (images), identities, count, size
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.collect.synthetic import FaceSample
from pipeline.synth.performance import FIELDS


def _json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


class FaceFolderWriter:
    """Writes one identity's faces; call ``add`` per face, then ``close``."""

    def __init__(self, folder: Path, identity: str, crop_size: int, provenance: dict):
        self.folder = folder
        (folder / "masks").mkdir(parents=True, exist_ok=True)
        self.records: list[dict] = []
        self.meta = {
            "identity": identity,
            "crop_size": crop_size,
            "landmarks": "ibug68",
            "alignment": "pipeline.faces.align",
        }
        _json(folder / "identity.json", provenance)

    def add(self, s: FaceSample, source: dict) -> None:
        name = f"{s.index:05d}.png"
        cv2.imwrite(str(self.folder / name), s.crop)
        cv2.imwrite(str(self.folder / "masks" / name), s.mask)
        self.records.append(
            {
                "file": name,
                "mask": f"masks/{name}",
                "landmarks": np.round(s.landmarks, 3).tolist(),
                "visible": s.visible.astype(int).tolist(),
                "matrix": np.round(s.matrix, 6).tolist(),
                "source": source,
                "performance": {k: round(v, 4) for k, v in s.performance.items()},
            }
        )

    def close(self) -> None:
        _json(self.folder / "index.json", {**self.meta, "faces": self.records})


def write_track(path: Path, actor: list, truth: list, perf: dict[str, np.ndarray]) -> None:
    """Save per-frame landmarks/visibility of both renders and the performance."""
    np.savez_compressed(
        path,
        landmarks=np.stack([f.landmarks for f in actor]).astype(np.float32),
        visible=np.stack([f.visible for f in actor]),
        truth_landmarks=np.stack([f.landmarks for f in truth]).astype(np.float32),
        truth_visible=np.stack([f.visible for f in truth]),
        performance=np.stack([perf[k] for k in FIELDS], 1).astype(np.float32),
        performance_fields=np.array(list(FIELDS)),
    )


def write_meta(path: Path, meta: dict) -> None:
    _json(path, meta)
