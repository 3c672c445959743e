"""Side-by-side frames: original | swapped | ground truth, with captions."""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX


def panel(frame: np.ndarray, height: int, caption: str) -> np.ndarray:
    h, w = frame.shape[:2]
    width = max(2, int(round(w * height / h / 2)) * 2)  # even: H.264 needs even sizes
    out = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
    scale = max(0.35, height / 600)
    (tw, th), base = cv2.getTextSize(caption, FONT, scale, 1)
    cv2.rectangle(out, (0, 0), (tw + 8, th + base + 8), (0, 0, 0), -1)
    cv2.putText(out, caption, (4, th + 4), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def side_by_side(frames: list[np.ndarray], captions: list[str], height: int) -> np.ndarray:
    return np.hstack([panel(f, height, c) for f, c in zip(frames, captions)])
