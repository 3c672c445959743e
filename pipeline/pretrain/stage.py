"""The pretrain stage: the autoencoder trained once on many synthetic people.

DeepFaceLab's pretrain mode: the shared encoder and the decoders first learn faces in
general from a pool of ``pretrain.identities`` synthetic people (seeds from
``pretrain.seed``; never the evaluators' gallery nor a swap pair), so that a new pair
fine-tunes from there (``train.init=pretrained``) instead of from random weights. Both
decoders see the whole pool. The weights are written as int8 with per-channel scales
(4.5 MB; ``pipeline.train.export.quantize_int8``) to ``pretrained/``, which git tracks: a
fresh clone starts from them, and ``dvc repro pretrain`` makes them again from the same
parameters.

The recipe is the schema's training defaults with the pool's own steps, batch size and
learning rate, so a sweep over ``train.*`` never invalidates the pretrained weights.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from pipeline import paths
from pipeline.collect import synthetic
from pipeline.collect.writer import FaceFolderWriter
from pipeline.config.load import load_params
from pipeline.config.rules import enforce
from pipeline.config.schema import TrainConf
from pipeline.io.atomic import atomic_outputs
from pipeline.synth.identity import sample_identity
from pipeline.tracking import stage_run
from pipeline.train.export import export_model
from pipeline.train.stage import train

POOL = "pool"
SCENES = 2  # backgrounds per pool identity


def check_config(p: DictConfig) -> None:
    rules = [
        (p.identities >= 2, "pretrain.identities must be at least 2"),
        (p.frame_size >= 128, "pretrain.frame_size must be at least 128"),
        (p.faces_per_identity >= 1, "pretrain.faces_per_identity must be at least 1"),
        (p.steps >= 1 and p.batch_size >= 1, "pretrain.steps and batch_size must be >= 1"),
        (p.lr > 0, "pretrain.lr must be positive"),
    ]
    enforce(rules)


def pool_seeds(p: DictConfig) -> list[int]:
    return [p.seed + k for k in range(p.identities)]


def render_pool(data: DictConfig, p: DictConfig, folder: Path) -> None:
    """Aligned faces of every pool identity into one face folder (collect's format)."""
    writer = FaceFolderWriter(
        folder / POOL, POOL, data.crop_size, {"kind": "synthetic pool"}, data.coverage
    )
    # The pool is synthetic whatever the swap's data; its crops follow data's crop settings.
    render = OmegaConf.create(
        {
            "frame_size": p.frame_size,
            "crop_size": data.crop_size,
            "coverage": data.coverage,
            "scenes": SCENES,
        }
    )
    index = 0
    total = p.identities * p.faces_per_identity
    with tqdm(total=total, desc="pretrain: render", unit="face") as bar:
        for seed in pool_seeds(p):
            idt = sample_identity(f"pretrain_{seed}", seed)
            for s in synthetic.training_faces(idt, seed, p.faces_per_identity, render):
                s.index = index
                writer.add(s, {"kind": "synthetic", "identity_seed": seed, "frame": index})
                index += 1
                bar.update()
    writer.close()


def pretrain_config(cfg: DictConfig) -> DictConfig:
    """The run's config: the schema's training defaults with the pool's own schedule."""
    p = cfg.pretrain
    train_cfg = OmegaConf.structured(TrainConf)
    train_cfg.merge_with(
        {
            "max_steps": p.steps,
            "batch_size": p.batch_size,
            "lr": p.lr,
            "schedule": "cosine",
            "polish_share": 0.0,
            "ema": 0.0,
            "init": "",
            # Both decoders learn the whole pool: there is no pair to tell apart.
            "true_face_weight": 0.0,
            "val_every": max(1, min(500, p.steps)),
            "checkpoint_every": max(1, min(200, p.steps)),
            "preview_every": max(1, min(1000, p.steps)),
        }
    )
    out = OmegaConf.create(OmegaConf.to_container(cfg))
    out.train = train_cfg
    return out


def pretrain(cfg: DictConfig, run_id: str | None, checkpoints: Path) -> dict:
    check_config(cfg.pretrain)
    run_cfg = pretrain_config(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        render_pool(cfg.data, cfg.pretrain, Path(tmp))
        return train(run_cfg, run_id, checkpoints, faces_dir=Path(tmp), identities=[POOL, POOL])


def main() -> None:
    cfg = load_params()
    check_config(cfg.pretrain)
    params = {"pretrain": OmegaConf.to_container(cfg.pretrain)}
    with stage_run(cfg, "pretrain", params) as run:
        import mlflow

        start = time.perf_counter()
        result = pretrain(cfg, run.info.run_id, paths.CHECKPOINTS / "pretrain")
        seconds = time.perf_counter() - start
        meta = {
            "model": OmegaConf.to_container(cfg.model),
            "identities": [POOL, POOL],
            "input_size": cfg.model.input_size,
            "coverage": float(cfg.data.coverage),
            "steps": result["report"]["steps"],
            "seconds": round(seconds, 1),  # rendering and training, this run's machine
            "pool_seeds": pool_seeds(cfg.pretrain),
            "fingerprint": result["fingerprint"],
        }
        with atomic_outputs(paths.PRETRAINED) as (tmp,):
            export_model(result["module"].inference_model, tmp, meta, torch.int8)
            if result["preview"] is not None:
                cv2.imwrite(str(tmp / "preview.png"), result["preview"])
        for name in ("model.json", "preview.png"):
            if (paths.PRETRAINED / name).is_file():
                mlflow.log_artifact(str(paths.PRETRAINED / name), "pretrain")
        r = result["report"]
        print(
            f"pretrain: {r['steps']} steps on {cfg.pretrain.identities} people, "
            f"{r['samples_per_second']} samples/s, val loss {r['val_loss']} -> {paths.PRETRAINED}/ "
            f"(MLflow run {run.info.run_id})"
        )
