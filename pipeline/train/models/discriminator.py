"""Discriminators: a patch discriminator on images (pix2pix's PatchGAN), and a code
discriminator on the shared code (DeepFaceLab's "true face")."""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Sequential):
    """(B, 3, S, S) in [0, 1] -> (B, 1, S / 2^len(dims) - 1, ...) unbounded scores."""

    def __init__(self, dims: list[int]):
        layers: list[nn.Module] = []
        c_in = 3
        for c in dims:
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            c_in = c
        layers.append(nn.Conv2d(c_in, 1, 3, padding=1))
        super().__init__(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x * 2 - 1)


class CodeDiscriminator(nn.Sequential):
    """(B, C, R, R) shared codes -> (B, identities) logits: whose face was encoded."""

    def __init__(self, channels: int, identities: int, dims: int = 64):
        super().__init__(
            nn.Conv2d(channels, dims, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(dims, dims, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(dims, identities),
        )
