"""x264 settings of an output clip: CRF and preset, chosen by the frame's size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from omegaconf import DictConfig

# x264's presets, fastest first
PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


@dataclass(frozen=True)
class Encoding:
    """``crf`` and ``preset``, except for frames of at least ``hd_pixels`` pixels (any
    shape), which get ``hd_crf`` and ``hd_preset``.

    On large frames a faster preset one CRF lower keeps the face as well, in a file of
    the same size; on small ones it loses some of it (docs/architecture.md, "HD frames
    get their own encoding")."""

    crf: int
    preset: str
    hd_pixels: int | None = None  # None: one setting for every size
    hd_crf: int | None = None
    hd_preset: str | None = None

    @classmethod
    def of(cls, cfg: DictConfig) -> Encoding:
        """From a config with ``crf``, ``preset`` and an ``hd`` group (refine's)."""
        hd = cfg.hd
        return cls(cfg.crf, cfg.preset, hd.min_pixels, hd.crf, hd.preset)

    def for_frame(self, frame: np.ndarray) -> tuple[int, str]:
        h, w = frame.shape[:2]
        if self.hd_pixels is not None and h * w >= self.hd_pixels:
            return self.hd_crf, self.hd_preset
        return self.crf, self.preset
