"""Face-swap autoencoders: DF (one decoder per identity) and LIAE (shared decoder).

Both answer ``model(x, identity)``: encode face crops ``x`` (B, 3, S, S) in [0, 1] and
decode them as ``identity`` (0 = A, 1 = B), giving RGB (B, 3, S, S) and a mask
(B, 1, S, S). Reconstruction is ``model(a, 0)``; the swap A -> B is ``model(a, 1)``.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from pipeline.errors import UserError
from pipeline.train.models.blocks import Decoder, Encoder, Inter


def _inter_res(cfg: DictConfig) -> int:
    res = cfg.input_size >> len(cfg.encoder_dims)
    out = res * 2 ** (1 + len(cfg.decoder_dims))
    if res < 1 or res << len(cfg.encoder_dims) != cfg.input_size or out != cfg.input_size:
        raise UserError(
            f"model.input_size {cfg.input_size} does not fit {len(cfg.encoder_dims)} encoder "
            f"and {len(cfg.decoder_dims)} decoder stages (decoder output {out}); "
            "need input_size = 2^len(encoder_dims) * res and res * 2^(1+len(decoder_dims))."
        )
    return res


class DF(nn.Module):
    """Shared encoder and inter block; one decoder per identity (faceswap Original)."""

    def __init__(self, cfg: DictConfig, identities: int = 2):
        super().__init__()
        res = _inter_res(cfg)
        self.encoder = Encoder(list(cfg.encoder_dims), cfg.kernel_size)
        self.inter = Inter(
            cfg.encoder_dims[-1], res, cfg.latent_dim, cfg.inter_dims, cfg.inter_upscale_dims
        )
        self.code_channels = cfg.inter_upscale_dims
        self.decoders = nn.ModuleList(
            Decoder(cfg.inter_upscale_dims, list(cfg.decoder_dims), cfg.kernel_size)
            for _ in range(identities)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The shared code every decoder reads."""
        return self.inter(self.encoder(x))

    def decode(self, code: torch.Tensor, identity: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoders[identity](code)

    def forward(self, x: torch.Tensor, identity: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decode(self.encode(x), identity)


class LIAE(nn.Module):
    """DeepFaceLab's LIAE: inter_AB sees both identities, inter_B only identity B.

    The decoder input is [inter_B(z), inter_AB(z)] for identity B and
    [inter_AB(z), inter_AB(z)] for identity A, so a face decoded "as A" uses only the
    shared code (DFL's swap) and identity B keeps a code of its own.
    """

    def __init__(self, cfg: DictConfig, identities: int = 2):
        super().__init__()
        if identities != 2:
            raise UserError("model.arch=liae swaps exactly two identities; use arch=df for more.")
        res = _inter_res(cfg)
        self.encoder = Encoder(list(cfg.encoder_dims), cfg.kernel_size)
        args = (cfg.encoder_dims[-1], res, cfg.latent_dim, cfg.inter_dims, cfg.inter_upscale_dims)
        self.inter_ab = Inter(*args)
        self.inter_b = Inter(*args)
        self.decoder = Decoder(2 * cfg.inter_upscale_dims, list(cfg.decoder_dims), cfg.kernel_size)

    def forward(self, x: torch.Tensor, identity: int) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        shared = self.inter_ab(z)
        own = self.inter_b(z) if identity == 1 else shared
        return self.decoder(torch.cat([own, shared], 1))


ARCHITECTURES = {"df": DF, "liae": LIAE}
# Each architecture's top-level modules, as train.init_parts and train.freeze name them
# (checked against the built networks in tests/test_train.py).
PARTS = {
    "df": ("encoder", "inter", "decoders"),
    "liae": ("encoder", "inter_ab", "inter_b", "decoder"),
}


def build_model(cfg: DictConfig, identities: int = 2) -> nn.Module:
    if cfg.arch not in ARCHITECTURES:
        raise UserError(
            f"model.arch is '{cfg.arch}', expected one of: "
            f"{', '.join(ARCHITECTURES)}; pick one with '-S model=<name>'."
        )
    return ARCHITECTURES[cfg.arch](cfg, identities)
