"""The visible "synthetic" label: white text on a translucent box, bottom left."""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
BOX_OPACITY = 0.6


class Label:
    """Draws ``text`` on frames of one size (the overlay is rendered once)."""

    def __init__(self, text: str, height: int, width: int):
        scale = max(0.3, min(height, width) / 700)
        thick = max(1, round(scale * 1.6))
        (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
        limit = width - 8
        if tw > limit:  # long text on a small frame: shrink to fit
            scale *= limit / tw
            (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
        pad = max(2, th // 3)
        w, h = tw + 2 * pad, th + base + 2 * pad
        x0, y0 = max(0, pad), max(0, height - h - pad)
        self.box = (x0, y0, min(width, x0 + w), min(height, y0 + h))
        bw, bh = self.box[2] - x0, self.box[3] - y0
        text_mask = np.zeros((bh, bw), np.uint8)
        cv2.putText(text_mask, text, (pad, pad + th), FONT, scale, 255, thick, cv2.LINE_AA)
        t = text_mask.astype(np.float32) / 255
        # Alpha: the box at BOX_OPACITY, the text fully opaque; colour: black box, white text.
        self._alpha = (BOX_OPACITY + (1 - BOX_OPACITY) * t)[..., None]
        self._ink = np.repeat((255 * t / np.maximum(self._alpha[..., 0], 1e-6))[..., None], 3, 2)
        self.shape = (height, width)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        out = frame.copy()
        roi = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = np.clip(roi * (1 - self._alpha) + self._ink * self._alpha, 0, 255)
        return out
