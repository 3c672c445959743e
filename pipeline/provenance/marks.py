"""Per-frame marks of every output: the visible label, then the invisible watermark."""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

from pipeline.errors import UserError
from pipeline.faces.mask import hull_mask
from pipeline.provenance.label import Label
from pipeline.provenance.watermark import Embedder, Layout

STRENGTH = (1.0, 12.0)
FACE_STRENGTH = (0.0, 12.0)
# The face's share of the mark covers the hull of its landmarks grown by this factor
# about their centre, so the paste's feathered edge lies inside it.
FACE_GROW = 1.15


def check_provenance(provenance: DictConfig) -> None:
    for key, (lo, hi) in (
        ("watermark_strength", STRENGTH),
        ("watermark_face_strength", FACE_STRENGTH),
    ):
        if not lo <= provenance[key] <= hi:
            raise UserError(
                f"provenance.{key} must be in [{lo:g}, {hi:g}] grey levels; "
                "fix it in conf/ or with '-S'."
            )


def face_region(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8, 255 over the face that ``landmarks`` (68, 2) outline, grown a little."""
    centre = landmarks.mean(0)
    return hull_mask(centre + (landmarks - centre) * FACE_GROW, shape)


def check_markable(height: int, width: int, what: str) -> None:
    """Outputs too small for the watermark are refused before any work is done."""
    try:
        Layout.for_size(height, width)
    except ValueError as err:
        raise UserError(
            f"{what} would be {width}x{height} pixels, too small to carry the watermark "
            "(at least 128x128); use larger frames."
        ) from err


class FrameMarker:
    """Marks frames for one run; overlays are built once per frame size. Given the
    swapped face's landmarks, the watermark there has ``watermark_face_strength``."""

    def __init__(self, tag: str, provenance: DictConfig):
        self.tag = tag
        self.cfg = provenance
        self._by_size: dict[tuple[int, int], tuple[Label | None, Embedder]] = {}

    def __call__(self, frame: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        size = frame.shape[:2]
        if size not in self._by_size:
            label = Label(self.cfg.label_text, *size) if self.cfg.label else None
            embed = Embedder(
                self.tag,
                *size,
                self.cfg.watermark_strength,
                face_strength=self.cfg.watermark_face_strength,
            )
            self._by_size[size] = (label, embed)
        label, embed = self._by_size[size]
        if label is not None:
            frame = label(frame)
        face = None if landmarks is None else face_region(np.asarray(landmarks), size)
        return embed(frame, face)
