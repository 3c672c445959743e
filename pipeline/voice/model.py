"""The voice model: DeepFaceLab's shared-encoder, one-decoder-per-identity idea applied to
speech frames, plus per-speaker statistics for pitch and breathiness.

The encoder reads a window of envelope frames (``2 context + 1`` of them) and squeezes it
through a narrow bottleneck; decoder ``k`` draws speaker ``k``'s envelope for the
window's centre frame. In training the encoder sees every frame through a random
vocal-tract warp and spectral tilt (``random_warp``) while the decoder must give the
speaker's own, unwarped frame back, so the encoder learns what is said and the decoder
who says it, as the face side's random warp does for faces. Conversion encodes A's
frames and decodes them with B's decoder.

Inference runs in numpy (``inference.py``). F0 follows the per-speaker log-F0 statistics (mean and spread: the classic baseline the
issue asks to compare against) and the aperiodicity the per-speaker mean of voiced frames.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pipeline.io.mel import hz_to_mel
from pipeline.voice import world

_MEL_LO = float(hz_to_mel(world.MEL_HZ[0]))
_MEL_STEP = float(hz_to_mel(world.MEL_HZ[-1]) - _MEL_LO) / (world.MEL_BINS - 1)


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            # tanh's GELU: numpy has no fast erf, and inference runs in numpy
            layers.append(nn.GELU(approximate="tanh"))
    return nn.Sequential(*layers)


class VoiceNet(nn.Module):
    def __init__(self, speakers: int, context: int, width: int, bottleneck: int):
        super().__init__()
        self.context = context
        frames = 2 * context + 1
        self.encoder = _mlp([frames * world.MEL_BINS, width * 2, width, bottleneck])
        self.decoders = nn.ModuleList(
            _mlp([bottleneck, width, width * 2, world.MEL_BINS]) for _ in range(speakers)
        )
        # Envelope normalisation and per-speaker statistics, saved with the weights.
        self.register_buffer("env_mean", torch.zeros(world.MEL_BINS))
        self.register_buffer("env_std", torch.ones(world.MEL_BINS))
        self.register_buffer("log_f0", torch.zeros(speakers, 2))  # mean, std
        self.register_buffer("aperiodicity", torch.zeros(speakers))  # voiced-frame mean, dB

    def forward(self, windows: torch.Tensor, speaker: torch.Tensor | int) -> torch.Tensor:
        """Normalised envelope windows (N, frames, bins) -> decoder ``speaker``'s centre
        frames (N, bins); ``speaker`` a number, or one per window."""
        code = self.encoder(windows.flatten(1))
        if isinstance(speaker, int):
            return self.decoders[speaker](code)
        out = torch.empty(len(code), world.MEL_BINS, dtype=code.dtype, device=code.device)
        for k, dec in enumerate(self.decoders):
            rows = speaker == k
            if rows.any():
                out[rows] = dec(code[rows])
        return out

    def normalise(self, envelope: torch.Tensor) -> torch.Tensor:
        return (envelope - self.env_mean) / self.env_std

    def denormalise(self, envelope: torch.Tensor) -> torch.Tensor:
        return envelope * self.env_std + self.env_mean


def windows(envelope: torch.Tensor, context: int) -> torch.Tensor:
    """(T, bins) -> (T, 2 context + 1, bins): each frame with its neighbours, the edges
    repeated."""
    padded = torch.cat(
        [envelope[:1].expand(context, -1), envelope, envelope[-1:].expand(context, -1)]
    )
    return padded.unfold(0, 2 * context + 1, 1).transpose(1, 2)


def random_warp(
    batch: torch.Tensor, warp: float, tilt: float, generator: torch.Generator
) -> torch.Tensor:
    """Each window (N, frames, bins; log power, not normalised) seen through its own
    vocal tract: formants moved by a factor in exp(+-warp), and a spectral tilt in
    +-``tilt`` dB per octave above 500 Hz."""
    n = len(batch)
    factor = torch.exp((torch.rand(n, generator=generator) * 2 - 1) * warp)
    hz = torch.as_tensor(world.MEL_HZ, dtype=batch.dtype)
    source_hz = (hz[None] / factor[:, None]).clamp(float(hz[0]), float(hz[-1]))
    pos = (hz_to_mel(source_hz) - _MEL_LO) / _MEL_STEP
    lo = pos.floor().long().clamp(0, world.MEL_BINS - 2)
    frac = (pos - lo).to(batch.dtype)[:, None]
    idx = lo[:, None].expand(-1, batch.shape[1], -1)
    warped = torch.gather(batch, 2, idx) * (1 - frac) + torch.gather(batch, 2, idx + 1) * frac
    octaves = torch.log2(hz.clamp(min=500.0) / 500.0)
    slope = (torch.rand(n, generator=generator) * 2 - 1) * tilt * math.log(10) / 10
    return warped + slope[:, None, None] * octaves


def convert(net: VoiceNet, source: world.Features, src: int | None, dst: int) -> world.Features:
    """``source`` in speaker ``dst``'s voice (``inference.Converter.convert`` on this
    net's current weights)."""
    from pipeline.voice.inference import Converter

    return Converter.from_net(net).convert(source, src, dst)
