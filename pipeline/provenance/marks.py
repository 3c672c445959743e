"""Per-frame marks of every output: the visible label, then the invisible watermark."""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

from pipeline.errors import UserError
from pipeline.provenance.label import Label
from pipeline.provenance.watermark import Embedder, Layout

STRENGTH = (1.0, 12.0)


def check_provenance(provenance: DictConfig) -> None:
    lo, hi = STRENGTH
    if not lo <= provenance.watermark_strength <= hi:
        raise UserError(
            f"provenance.watermark_strength must be in [{lo:g}, {hi:g}] grey levels; "
            "fix it in conf/ or with '-S'."
        )


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
    """Marks frames for one run; overlays are built once per frame size."""

    def __init__(self, tag: str, provenance: DictConfig):
        self.tag = tag
        self.cfg = provenance
        self._by_size: dict[tuple[int, int], tuple[Label | None, Embedder]] = {}

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        size = frame.shape[:2]
        if size not in self._by_size:
            label = Label(self.cfg.label_text, *size) if self.cfg.label else None
            self._by_size[size] = (label, Embedder(self.tag, *size, self.cfg.watermark_strength))
        label, embed = self._by_size[size]
        if label is not None:
            frame = label(frame)
        return embed(frame)
