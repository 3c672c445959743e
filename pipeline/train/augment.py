"""Training augmentation of aligned faces, one sample at a time, deterministic per draw.

The random warp is faceswap's: a coarse grid of control points is jittered and the
input face is resampled through it while the target stays unwarped, so the autoencoder
must learn the face instead of copying pixels. Affine jitter, flip and L*a*b* colour
shifts apply to input, target and masks alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from omegaconf import DictConfig

_GRID = 5


@dataclass
class Sample:
    """One augmented training face; images (S, S, 3) uint8 BGR, masks (S, S) float32."""

    input: np.ndarray
    target: np.ndarray
    mask: np.ndarray
    priority: np.ndarray  # 1 inside eyes and mouth regions, else 0; channel 0 eyes, 1 mouth


def priority_masks(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(2, S, S) uint8 masks of the eye regions and the mouth from crop landmarks."""
    out = np.zeros((2, size, size), np.uint8)
    pad = max(1, size // 32)
    for sl in (slice(36, 42), slice(42, 48)):
        hull = cv2.convexHull(np.round(landmarks[sl]).astype(np.int32))
        cv2.fillConvexPoly(out[0], hull, 1)
    cv2.fillConvexPoly(out[1], cv2.convexHull(np.round(landmarks[48:60]).astype(np.int32)), 1)
    kernel = np.ones((2 * pad + 1, 2 * pad + 1), np.uint8)
    return np.stack([cv2.dilate(m, kernel) for m in out])


def random_affine(rng: np.random.Generator, size: int, aug: DictConfig) -> np.ndarray:
    angle = rng.uniform(-aug.rotate, aug.rotate)
    scale = 1 + rng.uniform(-aug.zoom, aug.zoom)
    tx, ty = rng.uniform(-aug.shift, aug.shift, 2) * size
    m = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle, scale)
    m[:, 2] += (tx, ty)
    return m


def random_warp(rng: np.random.Generator, image: np.ndarray, scale: float) -> np.ndarray:
    """Resample ``image`` through a jittered 5x5 control grid (faceswap's random warp)."""
    size = image.shape[0]
    noise = rng.normal(0, scale * size, (2, _GRID, _GRID)).astype(np.float32)
    noise[:, [0, -1], :] = 0  # keep the border in place so no empty edges appear
    noise[:, :, [0, -1]] = 0
    # Only the displacement is interpolated, so zero noise is exactly the identity.
    ident = np.arange(size, dtype=np.float32)
    map_x = ident[None, :] + cv2.resize(noise[0], (size, size), interpolation=cv2.INTER_CUBIC)
    map_y = ident[:, None] + cv2.resize(noise[1], (size, size), interpolation=cv2.INTER_CUBIC)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def shift_lab(
    rng: np.random.Generator, images: list[np.ndarray], aug: DictConfig
) -> list[np.ndarray]:
    """The same random L*, a*, b* offsets applied to each image."""
    offset = (
        np.array(
            [rng.uniform(-aug.lab_l, aug.lab_l), *rng.uniform(-aug.lab_ab, aug.lab_ab, 2)],
            np.float32,
        )
        * 255
    )
    out = []
    for img in images:
        lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB).astype(np.float32) + offset
        out.append(cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR))
    return out


def augment(
    rng: np.random.Generator,
    face: np.ndarray,
    mask: np.ndarray,
    landmarks: np.ndarray,
    aug: DictConfig,
    warp: bool = True,
) -> Sample:
    """Augment one face (S, S, 3) uint8 with its hull mask (S, S) uint8 and landmarks;
    ``warp=False`` leaves the random warp out (the polish phase) whatever ``aug`` says."""
    size = face.shape[0]
    m = random_affine(rng, size, aug)
    face = cv2.warpAffine(
        face, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )
    mask = cv2.warpAffine(mask, m, (size, size), flags=cv2.INTER_LINEAR)
    lm = landmarks @ m[:, :2].T + m[:, 2]
    prio = priority_masks(lm, size)
    if rng.uniform() < aug.flip:
        face, mask = face[:, ::-1], mask[:, ::-1]
        prio = prio[:, :, ::-1]
    (face,) = shift_lab(rng, [np.ascontiguousarray(face)], aug)
    warped = random_warp(rng, face, aug.warp_scale) if aug.warp and warp else face
    return Sample(
        warped,
        face,
        np.ascontiguousarray(mask, np.float32) / 255,
        np.ascontiguousarray(prio, np.float32),
    )


def plain(face: np.ndarray, mask: np.ndarray, landmarks: np.ndarray) -> Sample:
    """The un-augmented sample (validation and previews)."""
    prio = priority_masks(landmarks, face.shape[0]).astype(np.float32)
    return Sample(face, face, mask.astype(np.float32) / 255, prio)
