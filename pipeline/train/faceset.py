"""Load one identity's collected faces into memory as uint8 arrays.

Reads ``index.json`` and keeps the faces whose PNG is still there, so deleting a PNG
removes that face from training. Crops at another size than the model's input are
resized (landmarks scaled with them).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import UserError
from pipeline.faces.mask import hull_mask
from pipeline.faces.template import HEAD_COVERAGE

log = logging.getLogger(__name__)


@dataclass
class FaceSet:
    name: str
    faces: np.ndarray  # (N, S, S, 3) uint8 BGR
    masks: np.ndarray  # (N, S, S) uint8
    landmarks: np.ndarray  # (N, 68, 2) float32, crop pixels
    files: list[str]
    coverage: float = HEAD_COVERAGE  # head units the crops span (collect's data.coverage)

    def __len__(self) -> int:
        return len(self.faces)


def load_face_set(folder: Path, size: int) -> FaceSet:
    index_path = folder / "index.json"
    if not index_path.is_file():
        raise UserError(
            f"{index_path} is missing; run the collect stage first (dvc repro collect)."
        )
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(f"{index_path} is not valid JSON ({err.msg}); re-run collect.") from err
    faces, masks, lms, files = [], [], [], []
    unreadable = 0
    for rec in index.get("faces", []):
        png = folder / rec["file"]
        if not png.is_file():
            continue  # deleted by the user: not part of the set
        face = cv2.imread(str(png), cv2.IMREAD_COLOR)
        if face is None:
            unreadable += 1
            continue
        lm = np.asarray(rec["landmarks"], np.float32)
        mask = (
            cv2.imread(str(folder / rec.get("mask", "")), cv2.IMREAD_GRAYSCALE)
            if rec.get("mask")
            else None
        )
        if mask is None or mask.shape != face.shape[:2]:
            mask = hull_mask(lm, face.shape[:2])
        if face.shape[0] != size:
            scale = size / face.shape[0]
            face = cv2.resize(
                face, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            )
            mask = cv2.resize(mask, (size, size), interpolation=cv2.INTER_LINEAR)
            lm = (lm + 0.5) * scale - 0.5
        faces.append(face)
        masks.append(mask)
        lms.append(lm)
        files.append(rec["file"])
    if unreadable:
        log.warning("%s: skipped %d unreadable face images", folder, unreadable)
    if not faces:
        raise UserError(f"{folder} holds no usable faces; re-run collect or check the folder.")
    coverage = float(index.get("coverage", HEAD_COVERAGE))
    return FaceSet(folder.name, np.stack(faces), np.stack(masks), np.stack(lms), files, coverage)


def split_indices(n: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th face is held out for validation (k = 1 / val_fraction), at least one."""
    idx = np.arange(n)
    if val_fraction <= 0 or n < 2:
        return idx, idx[:0]
    k = max(2, int(round(1 / val_fraction)))
    val = idx % k == k // 2
    if not val.any():
        val[n // 2] = True
    return idx[~val], idx[val]
