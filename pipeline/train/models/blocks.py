"""Shared network blocks, as in faceswap's nn_blocks: every architecture is built from these."""

from __future__ import annotations

import torch
from torch import nn


class ConvDown(nn.Sequential):
    """Strided convolution + LeakyReLU: halves the resolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 5):
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=2, padding=kernel // 2),
            nn.LeakyReLU(0.1, inplace=True),
        )


class UpscalePS(nn.Sequential):
    """Convolution to 4x channels + LeakyReLU + pixel shuffle: doubles the resolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3):
        super().__init__(
            nn.Conv2d(c_in, c_out * 4, kernel, padding=kernel // 2),
            nn.LeakyReLU(0.1, inplace=True),
            nn.PixelShuffle(2),
        )


class Encoder(nn.Sequential):
    """(B, 3, S, S) -> (B, dims[-1], S / 2^len(dims), S / 2^len(dims))."""

    def __init__(self, dims: list[int], kernel: int = 5):
        chans = [3, *dims]
        super().__init__(*(ConvDown(a, b, kernel) for a, b in zip(chans[:-1], chans[1:])))


class Inter(nn.Module):
    """Dense bottleneck: flatten -> latent -> res x res x dims -> one upscale."""

    def __init__(self, c_in: int, res: int, latent: int, dims: int, out_dims: int):
        super().__init__()
        self.res, self.dims = res, dims
        self.dense = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * res * res, latent), nn.Linear(latent, res * res * dims)
        )
        self.up = UpscalePS(dims, out_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.dense(x).view(-1, self.dims, self.res, self.res))


class Decoder(nn.Module):
    """Upscales, then a 5x5 convolution to RGB and one to a mask, both in [0, 1]."""

    def __init__(self, c_in: int, dims: list[int], kernel: int = 5):
        super().__init__()
        chans = [c_in, *dims]
        self.body = nn.Sequential(*(UpscalePS(a, b) for a, b in zip(chans[:-1], chans[1:])))
        self.rgb = nn.Conv2d(dims[-1], 3, kernel, padding=kernel // 2)
        self.mask = nn.Conv2d(dims[-1], 1, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return torch.sigmoid(self.rgb(h)), torch.sigmoid(self.mask(h))
