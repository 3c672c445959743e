"""Put an aligned crop back into its frame, touching only the face's bounding box.

Working in the box instead of the whole frame keeps compositing cheap on large frames
(a 64-pixel face in a 640x480 frame is a few percent of its pixels).
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.faces.align import crop_footprint


def roi_matrix(matrix: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The frame->crop matrix re-expressed for coordinates inside ``box``."""
    m = np.array(matrix, np.float64)
    m[:, 2] += m[:, :2] @ np.array(box[:2], np.float64)
    return m


def unwarp_roi(
    crop: np.ndarray,
    matrix: np.ndarray,
    box: tuple[int, int, int, int],
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """The crop resampled into the box's pixels (zeros outside the crop)."""
    x0, y0, x1, y1 = box
    return cv2.warpAffine(
        crop,
        roi_matrix(matrix, box),
        (x1 - x0, y1 - y0),
        flags=cv2.WARP_INVERSE_MAP | interpolation,
        borderMode=cv2.BORDER_CONSTANT,
    )


def alpha_blend(frame: np.ndarray, face: np.ndarray, alpha: np.ndarray, box) -> np.ndarray:
    """Blend ``face`` (box-sized BGR) into a copy of ``frame`` with ``alpha`` in [0, 1]."""
    x0, y0, x1, y1 = box
    out = frame.copy()
    a = np.ascontiguousarray(alpha, np.float32)
    roi = out[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = cv2.blendLinear(face, roi, a, 1.0 - a)
    return out


def paste(frame: np.ndarray, crop: np.ndarray, mask: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The plain composite: the crop over the frame through its (uint8) mask."""
    box = crop_footprint(matrix, crop.shape[0], frame.shape[:2])
    if box[2] <= box[0] or box[3] <= box[1]:
        return frame.copy()
    face = unwarp_roi(crop, matrix, box)
    alpha = unwarp_roi(mask, matrix, box).astype(np.float32) / 255
    return alpha_blend(frame, face, alpha, box)
