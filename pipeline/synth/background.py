"""Varied scene backgrounds: a lit wall gradient with blurred objects, one per scene."""

from __future__ import annotations

import cv2
import numpy as np


def render_background(seed: int, size: int) -> np.ndarray:
    """A (size, size, 3) uint8 BGR background, deterministic from ``seed``."""
    rng = np.random.default_rng([seed, 0xB6])
    top, bottom = rng.uniform(0.1, 0.9, (2, 3))
    ramp = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    img = (top * (1 - ramp) + bottom * ramp) * np.ones((1, size, 1), np.float32)
    img = (img * 255).astype(np.uint8)
    for _ in range(rng.integers(3, 9)):
        colour = tuple(float(v) for v in rng.uniform(20, 235, 3))
        x, y = rng.integers(0, size, 2)
        if rng.uniform() < 0.5:
            w, h = rng.integers(size // 10, size // 2, 2)
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), colour, -1)
        else:
            cv2.circle(img, (int(x), int(y)), int(rng.integers(size // 16, size // 4)), colour, -1)
    blur = float(rng.uniform(1.5, 6.0)) * size / 256  # out-of-focus, as behind a subject
    img = cv2.GaussianBlur(img, (0, 0), blur)
    noise = rng.normal(0, 3, img.shape).astype(np.float32)
    return np.clip(img + noise, 0, 255).astype(np.uint8)
