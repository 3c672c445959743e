"""One resumable Lightning fit over a dataset whose item ``i`` is batch ``i`` of the run
(the segmenter's and the voice model's training): CPU, checkpoints every N steps, and
batches from the restored step on, so a resumed run ends where an unbroken one does."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytorch_lightning as pl
from torch.utils.data import DataLoader, Dataset

from pipeline.train.callbacks import AtomicCheckpoint
from pipeline.train.data import StepSampler


def fit_steps(
    module: pl.LightningModule,
    batches: Dataset,
    steps: int,
    start: int,
    ckpt: Path | None,
    checkpoints: Path,
    checkpoint_every: int,
    callbacks: list[pl.Callback] = (),
    logger=False,
) -> tuple[pl.Trainer, float]:
    """Train ``module`` from step ``start`` (restored from ``ckpt``) to ``steps``; returns
    the trainer and the seconds the fit took."""
    loader = DataLoader(batches, batch_size=None, sampler=StepSampler(start, steps))
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=steps,
        max_epochs=1,
        logger=logger,
        log_every_n_steps=25,
        callbacks=[AtomicCheckpoint(checkpoints, checkpoint_every), *callbacks],
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    begin = time.perf_counter()
    with warnings.catch_warnings():
        # One process draws each batch whole, and StepSampler is the resume.
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*dataloader is not resumable.*")
        trainer.fit(module, loader, ckpt_path=ckpt, weights_only=True)
    return trainer, time.perf_counter() - begin
