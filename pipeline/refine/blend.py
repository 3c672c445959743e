"""Put a swapped crop into its frame: mask shaping, sharpening, then the chosen blender
(pipeline/refine/blenders)."""

from __future__ import annotations

import cv2
import numpy as np
from omegaconf import DictConfig

from pipeline.faces.align import crop_footprint
from pipeline.faces.mask import hull_mask
from pipeline.faces.paste import unwarp_roi
from pipeline.refine import blenders

SOURCES = ("predicted", "hull", "both", "occlusion")
MODES = blenders.MODES


def shape_mask(
    predicted: np.ndarray,
    landmarks: np.ndarray,
    cfg: DictConfig,
    own: np.ndarray | None = None,
) -> np.ndarray:
    """The blend mask in crop space (uint8): chosen source, eroded/dilated, feathered.
    ``own``: the visible face generate found in the same crop, the segmenter's or the
    target person's own decoder's (source ``occlusion``)."""
    size = predicted.shape[0]
    if cfg.source == "occlusion" and own is None:
        raise ValueError("mask source 'occlusion' needs the visible-face mask")
    if cfg.source in ("predicted", "occlusion"):
        mask = predicted.copy()
    else:
        hull = hull_mask(landmarks, (size, size))
        mask = hull if cfg.source == "hull" else np.minimum(hull, predicted)
    radius = int(round(abs(cfg.erode) * size))
    if radius:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
        mask = (cv2.erode if cfg.erode > 0 else cv2.dilate)(mask, kernel)
    sigma = cfg.blur * size / 2
    # A tight crop cuts the forehead: fade the mask out before the crop's edge, so the
    # edge never shows as a line across the face.
    edge = max(1, int(np.ceil(2 * sigma)))
    mask[:edge], mask[-edge:], mask[:, :edge], mask[:, -edge:] = 0, 0, 0, 0
    if sigma > 0.1:
        mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    if cfg.source == "occlusion":
        margin = int(round(cfg.occluder_margin * size))
        mask = np.minimum(mask, occluder_cut(own, landmarks, margin))
    return mask


def occluder_cut(own: np.ndarray, landmarks: np.ndarray, margin: int) -> np.ndarray:
    """Where generate's visible-face mask sees the face, less what covers it grown by
    ``margin`` crop pixels, with a crisp edge (softened over half a crop pixel).

    Feathering an occluder's edge like the face's outline (``blur``, several pixels)
    would paint over fingers, rims and strands a few pixels wide. Growing the occluder
    instead keeps its edge, which a 64-pixel crop blurs over two or three frame pixels:
    on the occluded clip 2 pixels kept 0.97 of the occluder pixels against 0.81 without,
    and the clip's SSIM rose (docs/architecture.md, "Occlusion"). Only what covers the
    inside of the landmark hull (shrunk by the same margin) is grown, so the face's own
    outline, where the mask and the hull part by a pixel, is not eroded and a clip with
    nothing in front is unchanged."""
    face = own > 127
    if margin > 0:
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1,) * 2)
        inside = cv2.erode(hull_mask(landmarks, own.shape), disk) > 127
        covers = cv2.dilate((inside & ~face).astype(np.uint8), disk) > 0
        face &= ~covers
    return cv2.GaussianBlur(face.astype(np.uint8) * 255, (0, 0), 0.5)


def sharpen(image: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    """Unsharp mask: image + amount * (image - blurred)."""
    if amount <= 0:
        return image
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    return cv2.addWeighted(image, 1 + amount, blurred, -amount, 0)


def blend_face(
    frame: np.ndarray,
    face: np.ndarray,
    mask: np.ndarray,
    matrix: np.ndarray,
    mode: str,
    amount: float,
    sigma: float,
) -> np.ndarray:
    """The frame with the crop ``face`` blended in through ``mask`` (both crop-sized)."""
    box = crop_footprint(matrix, face.shape[0], frame.shape[:2])
    x0, y0, x1, y1 = box
    if x1 - x0 < 4 or y1 - y0 < 4:
        return frame.copy()
    # A crop is usually upscaled into the frame: bicubic keeps the edges a bilinear
    # resampling would soften.
    face_roi = sharpen(unwarp_roi(face, matrix, box, cv2.INTER_CUBIC), amount, sigma)
    alpha = unwarp_roi(mask, matrix, box).astype(np.float32) / 255
    return blenders.make(mode)(frame, face_roi, alpha, box)
