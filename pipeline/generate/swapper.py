"""Batched inference: aligned target faces in, the other identity's faces and masks out."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn


class Swapper:
    """Decode faces as identity ``identity`` of ``model`` (BGR uint8 in, BGR uint8 out)."""

    def __init__(self, model: nn.Module, identity: int, precision: str = "bf16"):
        self.model = model.to(memory_format=torch.channels_last).eval()
        self.identity = identity
        self.precision = precision

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2)
        x = x.float().div_(255).contiguous(memory_format=torch.channels_last)
        ctx = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if self.precision == "bf16"
            else contextlib.nullcontext()
        )
        with ctx:
            rgb, mask = self.model(x, self.identity)
        faces = rgb.float().clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        masks = mask.float().clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return faces.permute(0, 2, 3, 1).numpy(), masks[:, 0].numpy()
