"""The train stage: read params.yaml, train (resuming if interrupted), export the model."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
import warnings
from pathlib import Path

import cv2
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from pipeline import paths, precision
from pipeline.config.load import load_params
from pipeline.config.rules import choice, enforce
from pipeline.errors import UserError
from pipeline.io.atomic import atomic_outputs
from pipeline.tracking import stage_run, tracking_uri
from pipeline.train.callbacks import AtomicCheckpoint, PreviewLogger, preview_grid
from pipeline.train.data import FaceDataModule
from pipeline.train.export import export_model, load_initial_weights
from pipeline.train.models.swap import PARTS, build_model
from pipeline.train.module import SwapModule
from pipeline.train.resume import checkpoint_to_resume, fingerprint

CHECKPOINTS = paths.CHECKPOINTS / "train"


class SpeedMeter(pl.Callback):
    """Training samples per second over the run, after a few warm-up steps."""

    def __init__(self, batch_size: int, skip: int = 3):
        self.batch_size, self.skip = batch_size, skip
        self.steps, self.start = 0, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.steps == self.skip:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.steps += 1

    @property
    def samples_per_second(self) -> float:
        if self.start is None or self.steps <= self.skip:
            return float("nan")
        # Each sample holds one face of every identity; count faces per identity once.
        return (self.steps - self.skip) * self.batch_size / (time.perf_counter() - self.start)


class LossHistory(pl.Callback):
    """Per-step losses for the DVC plot (reports/train_loss.csv)."""

    def __init__(self):
        self.rows: list[dict] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        m = trainer.callback_metrics
        row = {"step": trainer.global_step}
        row |= {
            k.removeprefix("train/"): round(float(v), 6)
            for k, v in m.items()
            if k.startswith("train/")
        }
        self.rows.append(row)


def check_config(cfg: DictConfig, identities: list[str]) -> None:
    """Choices and relations; every number's range is checked on load (config/ranges.py)."""
    t = cfg.train
    rules = [
        choice(t.schedule, ("constant", "cosine", "polish"), "train.schedule"),
        choice(t.loss, ("l1", "mse"), "train.loss"),
        (len(identities) >= 2, "data.identities must name at least two identities"),
    ]
    if cfg.model.arch in PARTS:  # an unknown arch is refused where the model is built
        for key in ("init_parts", "freeze"):
            for part in t[key]:
                rules.append(choice(part, PARTS[cfg.model.arch], f"train.{key} entry"))
    enforce(rules)


def check_devices(trainer: DictConfig) -> None:
    """A GPU trainer on a machine without one fails here, in one sentence."""
    import torch

    if trainer.accelerator in ("gpu", "cuda") and torch.cuda.device_count() < trainer.devices:
        found = torch.cuda.device_count()
        raise UserError(
            f"trainer.accelerator is '{trainer.accelerator}' with trainer.devices="
            f"{trainer.devices}, but this machine has {found} CUDA GPU(s); use '-S trainer=cpu' "
            "or install a CUDA build of torch (see README)."
        )


def _is_worker_rank() -> bool:
    """True in the extra processes that DDP launches (they must not log or export)."""
    return os.environ.get("LOCAL_RANK", "0") != "0" or os.environ.get("NODE_RANK", "0") != "0"


def train(
    cfg: DictConfig,
    run_id: str | None,
    checkpoints: Path = CHECKPOINTS,
    callbacks: list[pl.Callback] | tuple = (),
    faces_dir: Path = paths.FACES,
    identities: list[str] | None = None,
) -> dict:
    """Train (resuming from ``checkpoints`` when it holds this run's state) on the face
    folders ``identities`` under ``faces_dir`` (default: data.identities); ``callbacks``
    join the stage's own (the quality bench saves the trunk's state through one)."""
    identities = identities or [i.name for i in cfg.data.identities]
    check_config(cfg, identities)
    check_devices(cfg.trainer)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    dm = FaceDataModule(faces_dir, identities, cfg.model.input_size, cfg.train, cfg.seed)
    dm.setup()
    model = build_model(cfg.model, len(identities))
    if cfg.train.init:
        parts = list(cfg.train.init_parts)
        load_initial_weights(model, Path(cfg.train.init), cfg.model, dm.coverage, parts)
    for part in cfg.train.freeze:
        getattr(model, part).requires_grad_(False)
    module = SwapModule(model, cfg.train, identities)

    fp = fingerprint(cfg, faces_dir, identities)
    worker = _is_worker_rank()
    ckpt, step = checkpoint_to_resume(checkpoints, fp, owner=not worker)
    if ckpt is not None and not worker:
        print(f"train: resuming from step {step} of {cfg.train.max_steps} ({ckpt})", flush=True)

    logger = False
    if run_id is not None:
        from pytorch_lightning.loggers import MLFlowLogger

        logger = MLFlowLogger(
            experiment_name=cfg.tracking.experiment,
            run_id=run_id,
            tracking_uri=tracking_uri(cfg.tracking),
        )
    speed, history = SpeedMeter(cfg.train.batch_size), LossHistory()
    faces = dm.preview_batch(cfg.train.preview_faces)
    preview = PreviewLogger(
        lambda module: preview_grid(module, faces), cfg.train.preview_every, run_id
    )
    # The trainer group's keys are pl.Trainer arguments; the rest follow from train.
    computes_in = precision.training(cfg.trainer.accelerator, cfg.trainer.precision)
    trainer = pl.Trainer(
        **(OmegaConf.to_container(cfg.trainer) | {"precision": computes_in}),
        max_steps=cfg.train.max_steps,
        max_epochs=1,
        val_check_interval=cfg.train.val_every,
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        logger=logger,
        log_every_n_steps=min(10, cfg.train.val_every),
        callbacks=[
            AtomicCheckpoint(checkpoints, cfg.train.checkpoint_every),
            preview,
            speed,
            history,
            *callbacks,
        ],
        gradient_clip_val=cfg.train.grad_clip or None,
        enable_checkpointing=False,
        use_distributed_sampler=False,
        enable_model_summary=False,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*isinstance.treespec, LeafSpec.*")
        # StepSampler continues from the restored step, which is what this warns about.
        warnings.filterwarnings("ignore", ".*dataloader is not resumable.*")
        # weights_only: a checkpoint is data, never code (load_checkpoint vetted it).
        trainer.fit(module, dm, ckpt_path=ckpt, weights_only=True)

    if "val/loss" not in trainer.callback_metrics:  # max_steps below val_every
        trainer.validate(module, dm, verbose=False)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    return {
        "trainer": trainer,
        "module": module,
        "preview": preview.last,
        "history": history.rows,
        "resumed_from_step": step,
        "fingerprint": fp,
        "identities": identities,
        "coverage": dm.coverage,
        "report": {
            "steps": int(trainer.global_step),
            "samples_per_second": _finite(speed.samples_per_second, 2),
            "resumed_from_step": step,
            "train_loss": _finite(metrics.get("train/loss", float("nan")), 6),
            "val_loss": _finite(metrics.get("val/loss", float("nan")), 6),
        },
        "precision": computes_in,
    }


def _finite(value: float, digits: int) -> float | None:
    """JSON has no NaN: a figure a run could not measure (it resumed at its last step) is
    null."""
    return round(value, digits) if math.isfinite(value) else None


def write_outputs(cfg: DictConfig, result: dict) -> None:
    meta = {
        "model": OmegaConf.to_container(cfg.model),
        "identities": result["identities"],
        "input_size": cfg.model.input_size,
        "coverage": result["coverage"],
        "steps": result["report"]["steps"],
        "fingerprint": result["fingerprint"],
        "seed": cfg.seed,
    }
    with atomic_outputs(paths.MODELS) as (models_tmp,):
        export_model(result["module"].inference_model, models_tmp, meta)
        if result["preview"] is not None:
            cv2.imwrite(str(models_tmp / "preview.png"), result["preview"])
    paths.TRAIN_REPORT.parent.mkdir(parents=True, exist_ok=True)
    with atomic_outputs(paths.TRAIN_REPORT, paths.TRAIN_LOSS) as (report_tmp, csv_tmp):
        report_tmp.write_text(json.dumps(result["report"], indent=1) + "\n")
        keys = sorted({k for r in result["history"] for k in r} - {"step"})
        with csv_tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, ["step", *keys])
            w.writeheader()
            w.writerows(result["history"])


def main() -> None:
    cfg = load_params()
    # Fail on bad settings before a run is opened in MLflow.
    check_config(cfg, [i.name for i in cfg.data.identities])
    check_devices(cfg.trainer)
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    if _is_worker_rank():
        train(cfg, None)
        return
    params = {k: OmegaConf.to_container(cfg[k]) for k in ("model", "train", "trainer")}
    with stage_run(cfg, "train", params) as run:
        import mlflow

        result = train(cfg, run.info.run_id)
        if not result["trainer"].is_global_zero:
            return
        write_outputs(cfg, result)
        client = mlflow.MlflowClient()
        rid = run.info.run_id
        for k, v in result["report"].items():
            if v is not None:
                client.log_metric(rid, f"report/{k}", float(v))
        client.log_param(rid, "precision_used", result["precision"])
        client.log_artifact(rid, str(paths.MODELS / "model.safetensors"), "train")
        client.log_artifact(rid, str(paths.MODELS / "model.json"), "train")
        if (paths.MODELS / "preview.png").is_file():
            client.log_artifact(rid, str(paths.MODELS / "preview.png"), "train")
        r = result["report"]
        print(
            f"train: {r['steps']} steps, {r['samples_per_second']} samples/s, "
            f"train loss {r['train_loss']}, val loss {r['val_loss']} (MLflow run {rid})"
        )
