"""Callbacks: atomic checkpoints for resume, and preview grids logged to MLflow."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from pipeline.train.module import to_float
from pipeline.viz.grid import image_grid

# Two-line row labels (face, then what the model drew from it); ASCII, since OpenCV's
# font has no arrow glyph.
PREVIEW_ROWS = (
    "{a}\ninput",
    "{a}\n-> {a}",
    "{a}\n-> {b}",
    "{b}\ninput",
    "{b}\n-> {b}",
    "{b}\n-> {a}",
)


class AtomicCheckpoint(pl.Callback):
    """Writes ``last.ckpt`` every N steps and at the end, via a temporary file and a
    rename, so a process killed mid-write never leaves a broken checkpoint."""

    def __init__(self, folder: Path, every: int):
        self.path = Path(folder) / "last.ckpt"
        self.every = max(1, every)

    def _save(self, trainer: pl.Trainer) -> None:
        tmp = self.path.with_name(f".last.ckpt.tmp-{os.getpid()}")
        trainer.save_checkpoint(tmp, weights_only=False)
        if trainer.is_global_zero:
            os.replace(tmp, self.path)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step % self.every == 0:
            self._save(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        self._save(trainer)


def preview_grid(module: pl.LightningModule, batch: dict[str, torch.Tensor]) -> np.ndarray:
    """Rows A, A→A, A→B, B, B→B, B→A over fixed held-out faces: (H, W, 3) uint8 BGR."""
    rows: list[torch.Tensor] = []
    was_training = module.training
    module.eval()
    with torch.no_grad():
        for src in (0, 1):
            faces = to_float(batch["target"][:, src].to(module.device))
            rows.append(faces)
            for dst in (src, 1 - src):
                rows.append(module.inference_model(faces, dst)[0])
    module.train(was_training)
    tiles = [
        (t.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
        for row in rows
        for t in row
    ]
    a, b = module.identities
    labels = [r.format(a=a, b=b) for r in PREVIEW_ROWS]
    return image_grid(tiles, cols=len(rows[0]), labels=labels)


class PreviewLogger(pl.Callback):
    """Logs a preview picture every N steps and at the end as an MLflow image series (a
    slider in the UI) under ``key``; ``draw(module)`` makes it, (H, W, 3) uint8 BGR, and
    the last one is kept (``last``) for the stage's own preview file."""

    def __init__(
        self,
        draw: Callable[[pl.LightningModule], np.ndarray],
        every: int,
        run_id: str | None,
        key: str = "preview",
    ):
        self.draw, self.every, self.run_id, self.key = draw, max(1, every), run_id, key
        self.last: np.ndarray | None = None

    def _log(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        image = self.draw(module)
        self.last = image
        if trainer.is_global_zero and self.run_id:
            import mlflow

            mlflow.MlflowClient().log_image(
                self.run_id, image[..., ::-1].copy(), key=self.key, step=trainer.global_step
            )

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step % self.every == 0:
            self._log(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._log(trainer, pl_module)
