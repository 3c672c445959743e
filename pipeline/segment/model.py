"""The occlusion segmenter: a small U-Net that marks, in an aligned face crop, the face
that can be seen (a hand, a microphone, glasses or hair in front of it left out).

A network of its own, after DeepFaceLab's XSeg: the swap model's mask head shares its
decoder with the face and drew the visible face with IoU 0.68 on the occluded clip,
where this one, trained for a few minutes on the same faces, does far better
(docs/architecture.md, "Occlusion segmenter").
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.layers import DoubleConv


class Segmenter(nn.Module):
    """BGR crops in [0, 1] (N, 3, S, S), S a multiple of 2**(levels-1), to visible-face
    logits (N, 1, S, S). ``width`` channels at full resolution, doubling per level."""

    def __init__(self, width: int = 8, levels: int = 4):
        super().__init__()
        ch = [width * 2**k for k in range(levels)]
        self.down = nn.ModuleList(DoubleConv(i, o) for i, o in zip([3, *ch[:-1]], ch))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(ch[k + 1], ch[k], 2, 2) for k in range(levels - 1)
        )
        self.merge = nn.ModuleList(DoubleConv(2 * ch[k], ch[k]) for k in range(levels - 1))
        self.head = nn.Conv2d(ch[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for k in reversed(range(len(self.merge))):
            x = self.merge[k](torch.cat([self.up[k](x), skips[k]], 1))
        return self.head(x)


def to_input(crops: np.ndarray) -> torch.Tensor:
    """(N, S, S, 3) uint8 BGR crops as the network's input."""
    x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div_(255)
    return x.contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def segment(net: Segmenter, crops: np.ndarray) -> np.ndarray:
    """(N, S, S) uint8 visible-face masks (255 = face) of (N, S, S, 3) uint8 BGR crops."""
    was_training = net.training
    net.eval()
    prob = torch.sigmoid(net(to_input(crops)))
    net.train(was_training)
    return prob.mul_(255).round_().to(torch.uint8)[:, 0].numpy()
