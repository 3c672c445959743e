"""Per-frame marks of every output: the visible label, then the invisible watermark."""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

from pipeline.provenance.label import Label
from pipeline.provenance.watermark import Embedder


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
