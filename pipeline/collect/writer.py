"""Files the collect stage writes: face folders with an index, and target clip folders.

data/faces/<identity>/
    00000.png ...        aligned crops (crop_size square, BGR PNG)
    masks/00000.png ...  landmark-hull masks (uint8, 255 = face)
    index.json           per face: file, mask, landmarks (crop pixels), source frame;
                         real footage adds the face's 128-d dlib embedding (full-size
                         frame), which evaluate compares swapped faces with
    identity.json        provenance: synthetic parameters (or a consent record)
data/targets/<clip>/
    video.mp4            the clip to swap: H.264 + AAC soundtrack
    ground_truth.mp4     the other identity's whole head, same performance (a head swap)
    face_truth.mp4       the other identity's inner face on this head, this skin tone: what
                         a perfect face swap with colour transfer produces (the headline)
    face_truth_source_skin.mp4  the same with the other identity's skin (refine.color=none)
    track.npz            per frame: landmarks, visibility, performance of every render
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

    def __init__(
        self, folder: Path, identity: str, crop_size: int, provenance: dict, coverage: float
    ):
        self.folder = folder
        (folder / "masks").mkdir(parents=True, exist_ok=True)
        self.records: list[dict] = []
        self.meta = {
            "identity": identity,
            "crop_size": crop_size,
            "coverage": coverage,
            "landmarks": "ibug68",
            "alignment": "pipeline.faces.align",
        }
        _json(folder / "identity.json", provenance)

    def add(self, s: FaceSample, source: dict, **extra) -> None:
        """One face; ``extra`` keys go into its index record as they are."""
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
            | extra
        )

    def close(self) -> None:
        _json(self.folder / "index.json", {**self.meta, "faces": self.records})


def write_track(
    path: Path, actor: list, truths: list[dict[str, Any]], perf: dict[str, np.ndarray]
) -> None:
    """Save per-frame landmarks/visibility of every render and the performance.

    truths: per frame, the ground-truth renders by name; ``ground_truth``'s are saved as
    ``truth_landmarks``/``truth_visible``, the others as ``<name>_landmarks``/``_visible``.
    """
    arrays = {
        "landmarks": np.stack([f.landmarks for f in actor]).astype(np.float32),
        "visible": np.stack([f.visible for f in actor]),
        "performance": np.stack([perf[k] for k in FIELDS], 1).astype(np.float32),
        "performance_fields": np.array(list(FIELDS)),
    }
    for name in truths[0] if truths else []:
        key = "truth" if name == "ground_truth" else name
        arrays[f"{key}_landmarks"] = np.stack([t[name].landmarks for t in truths]).astype(
            np.float32
        )
        arrays[f"{key}_visible"] = np.stack([t[name].visible for t in truths])
    np.savez_compressed(path, **arrays)


def write_meta(path: Path, meta: dict) -> None:
    _json(path, meta)
