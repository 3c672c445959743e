"""Contact sheets: many small images in one picture, with optional row labels."""

from __future__ import annotations

import cv2
import numpy as np


def image_grid(
    images: list[np.ndarray],
    cols: int,
    pad: int = 2,
    labels: list[str] | None = None,
    label_every: int | None = None,
) -> np.ndarray:
    """Tile equally sized (H, W, 3) uint8 images into rows of ``cols``.

    labels: text drawn at the start of every ``label_every``-th image (default: each row).
    """
    if not images:
        raise ValueError("image_grid needs at least one image")
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    sheet = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        sheet[y : y + h, x : x + w] = img
    if labels:
        every = label_every or cols
        for j, text in enumerate(labels):
            r, c = divmod(j * every, cols)
            org = (pad + c * (w + pad) + 3, pad + r * (h + pad) + 12)
            cv2.putText(sheet, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(
                sheet, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA
            )
    return sheet
