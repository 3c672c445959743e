"""Training batches for the occlusion segmenter: collected faces with occluders drawn on
them at random, and as target the visible face (the collected mask less the occluder).

Occluders are drawn on the aligned crop from its landmarks (pipeline/synth/occluders.py,
the renderer's own shapes), so every batch sees new ones, real faces included. Batch
``i`` is a function of (seed, i) alone: a resumed run draws the batches an uninterrupted
one draws.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.data import Dataset

from pipeline.synth.occluders import KINDS, Occluder
from pipeline.train.augment import random_affine
from pipeline.train.faceset import FaceSet


def occluded_face(
    face: np.ndarray, mask: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, cfg
) -> tuple[np.ndarray, np.ndarray]:
    """One training pair from one collected face: (crop, visible-face mask), uint8.

    With probability ``cfg.occlusion`` an occluder of a random kind is drawn in front;
    then a tracker-like turn, zoom and shift (training's own ``random_affine``), a
    mirror half the time, and a change of brightness."""
    face, mask = face.copy(), mask.copy()
    if rng.random() < cfg.occlusion:
        occ = Occluder(str(rng.choice(KINDS)), int(rng.integers(2**31)))
        mask = np.minimum(mask, 255 - occ.draw(face, landmarks, float(rng.random())))
    size = face.shape[0]
    matrix = random_affine(rng, size, cfg)
    face = cv2.warpAffine(face, matrix, (size, size), borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(mask, matrix, (size, size))
    if rng.random() < 0.5:
        face, mask = face[:, ::-1], mask[:, ::-1]
    gain, offset = rng.uniform(1 - cfg.brightness, 1 + cfg.brightness), rng.normal(0, 8)
    face = np.clip(face * gain + offset, 0, 255).astype(np.uint8)
    return face, np.ascontiguousarray(mask)


class OccludedBatches(Dataset):
    """Item ``i``: batch ``i`` of the run, faces drawn from every identity's set."""

    def __init__(self, sets: list[FaceSet], cfg: DictConfig, seed: int):
        self.faces = np.concatenate([s.faces for s in sets])
        self.masks = np.concatenate([s.masks for s in sets])
        self.landmarks = np.concatenate([s.landmarks for s in sets])
        self.cfg, self.seed = cfg, seed

    def __len__(self) -> int:
        return self.cfg.steps

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, 0x5E6, int(i)])
        pairs = [
            occluded_face(self.faces[j], self.masks[j], self.landmarks[j], rng, self.cfg)
            for j in rng.integers(0, len(self.faces), self.cfg.batch_size)
        ]
        faces = np.stack([p[0] for p in pairs])
        masks = np.stack([p[1] for p in pairs])
        return {
            "input": torch.from_numpy(faces).permute(0, 3, 1, 2).float().div_(255),
            "target": torch.from_numpy(masks).float().div_(255)[:, None],
        }
