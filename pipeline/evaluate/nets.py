"""The evaluators' network: a small CNN with an embedding, trained from scratch here."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.layers import DoubleConv
from pipeline.precision import cpu_autocast


def _block(cin: int, cout: int) -> nn.Sequential:
    # Unpacked, so the layers keep the indices (state-dict keys) they had before.
    return nn.Sequential(*DoubleConv(cin, cout), nn.MaxPool2d(2))


class EvalNet(nn.Module):
    """64x64 BGR crops -> a 128-d embedding -> ``outputs`` (class logits or regressions)."""

    def __init__(self, outputs: int, width: int = 32, embedding: int = 128):
        super().__init__()
        dims = [width, 2 * width, 4 * width, 8 * width]
        self.features = nn.Sequential(*[_block(a, b) for a, b in zip([3, *dims], dims)])
        self.embed_layer = nn.Linear(dims[-1], embedding)
        self.head = nn.Linear(embedding, outputs)
        self.config = {"outputs": outputs, "width": width, "embedding": embedding}

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).mean((2, 3))
        return F.relu(self.embed_layer(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def to_tensor(crops: np.ndarray) -> torch.Tensor:
    """(N, S, S, 3) uint8 -> (N, 3, S, S) float in [0, 1], channels-last."""
    x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div_(255)
    return x.contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def apply(net: EvalNet, crops: np.ndarray, embed: bool = False, batch: int = 256) -> np.ndarray:
    net.eval()
    out = []
    for i in range(0, len(crops), batch):
        x = to_tensor(crops[i : i + batch])
        with cpu_autocast():
            y = net.embed(x) if embed else net(x)
        out.append(y.float().numpy())
    return np.concatenate(out) if out else np.zeros((0, net.config["outputs"]), np.float32)
