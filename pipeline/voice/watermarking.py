"""The audio mark on converted speech: the run tag, as in the video mark."""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig


class AudioMarker:
    def __init__(self, tag: str, provenance: DictConfig):
        self.tag = tag

    def __call__(self, samples: np.ndarray, offset: int) -> np.ndarray:
        return samples


def read_mark(samples: np.ndarray, rate: int, tag: str) -> dict:
    return {"audio_watermark_found": 0.0, "audio_watermark_bit_accuracy": 0.0}
