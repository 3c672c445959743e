"""Batched inference: aligned target faces in, the other identity's faces and masks out."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from pipeline.precision import cpu_autocast


class Swapper:
    """Decode faces as identity ``identity`` of ``model`` (BGR uint8 in, BGR uint8 out),
    and a mask of the face that can be seen in the same crops, which refine's occlusion
    source cuts what covers the face out with: ``occlusion(crops)`` (the segmenter's), or
    with ``own`` the mask the target person's own decoder draws (it leaves out what
    covers their face, having learnt their face)."""

    def __init__(
        self,
        model: nn.Module,
        identity: int,
        precision: str = "auto",
        own: int | None = None,
        occlusion: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        self.model = model.to(memory_format=torch.channels_last).eval()
        self.identity = identity
        self.precision = precision
        self.own = None if occlusion is not None else own
        self.occlusion = occlusion

    @property
    def sees_occluders(self) -> bool:
        return self.own is not None or self.occlusion is not None

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2)
        x = x.float().div_(255).contiguous(memory_format=torch.channels_last)
        own = None
        with cpu_autocast(self.precision):
            if hasattr(self.model, "encode"):  # DF: one shared code, two decoders
                code = self.model.encode(x)
                rgb, mask = self.model.decode(code, self.identity)
                if self.own is not None:
                    own = self.model.decode(code, self.own)[1]
            else:
                rgb, mask = self.model(x, self.identity)
                if self.own is not None:
                    own = self.model(x, self.own)[1]
        faces = rgb.float().clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        if self.occlusion is not None:
            seen = self.occlusion(crops)
        else:
            seen = None if own is None else _mask(own)
        return faces.permute(0, 2, 3, 1).numpy(), _mask(mask), seen


def _mask(mask: torch.Tensor) -> np.ndarray:
    return mask.float().clamp_(0, 1).mul_(255).round_().to(torch.uint8)[:, 0].numpy()
