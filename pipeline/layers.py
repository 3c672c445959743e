"""Layers that networks of different stages share (the occlusion segmenter's and the
evaluators'). A module of its own, listed in those stages' DVC deps, so a change to the
swap model's blocks (pipeline/train/models/blocks.py) re-runs neither."""

from __future__ import annotations

from torch import nn


class DoubleConv(nn.Sequential):
    """Two 3x3 convolutions, each with batch norm and ReLU: the U-Net and VGG unit."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )
