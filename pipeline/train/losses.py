"""Face-swap losses: masked pixel and structural terms with eye/mouth priority, mask loss.

All images are (B, 3, S, S) in [0, 1]; masks (B, 1, S, S); priority (B, 2, S, S) with
channel 0 the eyes and channel 1 the mouth.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.metrics import ssim
from omegaconf import DictConfig
from torch import nn
from torch.func import functional_call


def weight_map(mask: torch.Tensor, priority: torch.Tensor, cfg: DictConfig) -> torch.Tensor:
    """Per-pixel loss weight: the face counts fully, the background by background_weight,
    and eyes and mouth are multiplied by their priority weights (faceswap's multipliers)."""
    w = cfg.background_weight + (1 - cfg.background_weight) * mask
    boost = 1 + (cfg.eye_weight - 1) * priority[:, :1] + (cfg.mouth_weight - 1) * priority[:, 1:]
    return w * boost


def _weighted_mean(err: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (err * w).sum() / (w.sum() * err.shape[1] + 1e-8)


def pixel_loss(
    pred: torch.Tensor, target: torch.Tensor, w: torch.Tensor, kind: str
) -> torch.Tensor:
    diff = pred - target
    err = diff.abs() if kind == "l1" else diff * diff
    return _weighted_mean(err, w)


def dssim_loss(pred: torch.Tensor, target: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean of the structural dissimilarity map (1 - SSIM) / 2 (kornia)."""
    window = 11 if pred.shape[-1] >= 64 else 7
    return _weighted_mean((1 - ssim(pred, target, window)) / 2, w)


def mask_loss(pred_mask: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred_mask - mask) ** 2)


def swap_losses(
    pred: torch.Tensor,
    pred_mask: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    priority: torch.Tensor,
    cfg: DictConfig,
) -> dict[str, torch.Tensor]:
    """The terms for one identity and their weighted sum under ``total``."""
    w = weight_map(mask, priority, cfg)
    terms = {
        "pixel": pixel_loss(pred, target, w, cfg.loss),
        "dssim": dssim_loss(pred, target, w),
        "mask": mask_loss(pred_mask, mask),
    }
    terms["total"] = (
        terms["pixel"] + cfg.dssim_weight * terms["dssim"] + cfg.mask_weight * terms["mask"]
    )
    return terms


def gan_losses(
    disc: nn.Module, fake: torch.Tensor, real: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares GAN terms: (generator's, discriminator's).

    The generator's term sees the discriminator through detached weights, and the
    discriminator's term sees the fake detached, so one backward pass and one optimiser
    step train both sides the right way.
    """
    frozen = {k: v.detach() for k, v in disc.named_parameters()}
    g_adv = torch.mean((functional_call(disc, frozen, (fake,)) - 1) ** 2)
    d_loss = torch.mean((disc(real) - 1) ** 2) + torch.mean(disc(fake.detach()) ** 2)
    return g_adv, 0.5 * d_loss


def code_losses(disc: nn.Module, codes: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """DeepFaceLab's "true face" as domain confusion: (encoder's term, discriminator's).

    ``codes[k]`` are the shared codes of identity k's faces. The discriminator learns to
    tell whose face a code came from; the encoder is pushed toward codes it cannot tell
    apart (cross-entropy against the uniform guess), so the decoder of the new identity
    is trained on codes distributed like those of the faces it will be given to swap.
    Weights and codes are detached the same way as in ``gan_losses``.
    """
    frozen = {k: v.detach() for k, v in disc.named_parameters()}
    g_terms, d_terms = [], []
    for k, code in enumerate(codes):
        g_terms.append(-F.log_softmax(functional_call(disc, frozen, (code,)), 1).mean())
        label = torch.full((len(code),), k, dtype=torch.long, device=code.device)
        d_terms.append(F.cross_entropy(disc(code.detach()), label))
    return torch.stack(g_terms).mean(), torch.stack(d_terms).mean()
