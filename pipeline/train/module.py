"""The LightningModule: one training step reconstructs a warped face of every identity
through that identity's decoder. The network is injected, so every architecture trains
with the same module."""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from pipeline.train.losses import code_losses, gan_losses, swap_losses
from pipeline.train.models.discriminator import CodeDiscriminator, PatchDiscriminator


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, S, S) -> float in [0, 1], channels-last like the model's weights."""
    return images.float().div_(255).contiguous(memory_format=torch.channels_last)


def polish_start(cfg: DictConfig) -> int:
    """The first step of the polish phase (no warp; decaying learning rate)."""
    return cfg.max_steps - int(round(cfg.polish_share * cfg.max_steps))


class SwapModule(pl.LightningModule):
    def __init__(self, model: nn.Module, train: DictConfig, identities: list[str]):
        super().__init__()
        # oneDNN convolutions run ~1.25x faster on CPU in channels-last layout.
        self.model = model.to(memory_format=torch.channels_last)
        self.discriminator = (
            PatchDiscriminator(list(train.gan_dims)).to(memory_format=torch.channels_last)
            if train.gan_weight > 0
            else None
        )
        # DF only, as in DeepFaceLab: LIAE's decoders already read one shared code.
        channels = getattr(model, "code_channels", None)
        self.code_discriminator = (
            CodeDiscriminator(channels, len(identities))
            if train.true_face_weight > 0 and channels is not None
            else None
        )
        # The averaged weights live in the module, so checkpoints carry them and a
        # resumed run continues the same average.
        self.ema = (
            AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(train.ema))
            if train.ema > 0
            else None
        )
        if self.ema is not None:  # averaged, never trained (DDP must not wait for gradients)
            self.ema.requires_grad_(False)
        self.cfg = train
        self.identities = identities
        self.save_hyperparameters(
            {"train": OmegaConf.to_container(train), "identities": identities}
        )

    def forward(self, x: torch.Tensor, identity: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model(x, identity)

    @property
    def inference_model(self) -> nn.Module:
        """What previews and the export use: the averaged weights when there are some."""
        return self.ema.module if self.ema is not None else self.model

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if self.ema is not None:
            self.ema.update_parameters(self.model)

    def losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Loss terms per identity ('<name>/<term>') and the overall 'loss'."""
        out: dict[str, torch.Tensor] = {}
        total = 0.0
        codes = []
        for k, name in enumerate(self.identities):
            if self.code_discriminator is not None:
                codes.append(self.model.encode(to_float(batch["input"][:, k])))
                pred, pred_mask = self.model.decode(codes[-1], k)
            else:
                pred, pred_mask = self.model(to_float(batch["input"][:, k]), k)
            target = to_float(batch["target"][:, k])
            terms = swap_losses(
                pred, pred_mask, target, batch["mask"][:, k], batch["priority"][:, k], self.cfg
            )
            if self.discriminator is not None:
                terms["gan"], terms["discriminator"] = gan_losses(self.discriminator, pred, target)
                terms["total"] = (
                    terms["total"] + self.cfg.gan_weight * terms["gan"] + terms["discriminator"]
                )
            out |= {f"{name}/{t}": v for t, v in terms.items()}
            total = total + terms["total"]
        if codes:
            out["true_face"], out["code_discriminator"] = code_losses(
                self.code_discriminator, codes
            )
            total = total + self.cfg.true_face_weight * out["true_face"]
            total = total + out["code_discriminator"]
        out["loss"] = total
        return out

    def training_step(self, batch, batch_idx):
        losses = self.losses(batch)
        self.log_dict(
            {f"train/{k}": v.detach() for k, v in losses.items()}, prog_bar=False, sync_dist=False
        )
        self.log("loss", losses["loss"].detach(), prog_bar=True, logger=False)
        return losses["loss"]

    def validation_step(self, batch, batch_idx):
        losses = self.losses(batch)
        self.log_dict({f"val/{k}": v for k, v in losses.items()}, sync_dist=True)

    def configure_optimizers(self):
        cfg = self.cfg
        groups = [{"params": self.model.parameters()}]
        for disc in (self.discriminator, self.code_discriminator):
            if disc is not None:
                groups.append({"params": disc.parameters()})
        opt = torch.optim.AdamW(
            groups, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay
        )
        warm, total = max(cfg.warmup_steps, 0), max(cfg.max_steps, 1)
        polish = polish_start(cfg)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            if cfg.schedule == "cosine":
                p = min(1.0, (step - warm) / max(1, total - warm))
                return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p))
            if cfg.schedule == "polish" and step >= polish:
                p = min(1.0, (step - polish) / max(1, total - polish))
                return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p))
            return 1.0

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
