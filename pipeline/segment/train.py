"""Train the occlusion segmenter (``model.py``) in Lightning on the collected faces with
occluders drawn on them (``data.py``), resumable from ``checkpoints/segment`` after a
kill, and write it with its preview."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from safetensors.torch import load_file, save_file

from pipeline.io.atomic import atomic_outputs
from pipeline.segment.data import OccludedBatches
from pipeline.segment.model import Segmenter, segment
from pipeline.train.callbacks import PreviewLogger
from pipeline.train.faceset import FaceSet, load_face_set
from pipeline.train.stepwise import fit_steps

PREVIEW_FACES = 8


class SegmentModule(pl.LightningModule):
    def __init__(self, net: Segmenter, cfg: DictConfig):
        super().__init__()
        self.net, self.cfg = net, cfg

    def training_step(self, batch, batch_idx):
        x = batch["input"].contiguous(memory_format=torch.channels_last)
        y = batch["target"]
        logits = self.net(x)
        p = torch.sigmoid(logits)
        # Dice keeps thin occluders (a rim, a strand) from drowning in the face's pixels.
        dice = 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
        loss = F.binary_cross_entropy_with_logits(logits, y) + dice
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.cfg.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, self.cfg.lr, total_steps=self.cfg.steps, pct_start=0.1
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def preview_batch(sets: list[FaceSet], cfg: DictConfig, seed: int) -> dict[str, np.ndarray]:
    """Fixed occluded faces for the preview (every face occluded), from their own stream."""
    every = OmegaConf.merge(cfg, {"occlusion": 1.0, "batch_size": PREVIEW_FACES})
    batch = OccludedBatches(sets, every, seed + 1)[0]
    faces = batch["input"].mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return {"faces": faces, "masks": batch["target"][:, 0].mul(255).round().byte().numpy()}


def preview(net: Segmenter, batch: dict[str, np.ndarray]) -> np.ndarray:
    """Rows: the occluded faces, the face seen through the segmenter's mask, and through
    the exact mask (what it learns), at 2x."""
    faces, exact = batch["faces"], batch["masks"]
    found = segment(net, faces)

    def through(masks):
        return (faces * (masks[..., None] / 255.0)).astype(np.uint8)

    rows = [np.concatenate(list(r), 1) for r in (faces, through(found), through(exact))]
    grid = np.concatenate(rows, 0)
    return cv2.resize(grid, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)


def fingerprint(cfg: DictConfig, seed: int, faces: Path, names: list[str], size: int) -> str:
    """What a checkpoint must match to be resumed: the settings, the crop size and each
    identity's faces (deleting a PNG drops that face)."""
    h = hashlib.sha256(json.dumps([OmegaConf.to_container(cfg), seed, names, size]).encode())
    for n in names:
        h.update((faces / n / "index.json").read_bytes())
        h.update("\n".join(sorted(p.name for p in (faces / n).glob("*.png"))).encode())
    return h.hexdigest()


def train_segmenter(
    cfg: DictConfig,
    seed: int,
    faces: Path,
    names: list[str],
    size: int,
    checkpoints: Path,
    logger=False,
    run_id: str | None = None,
) -> dict:
    """Train on the collected faces of ``names`` at ``size`` pixels; returns the module
    and a report."""
    from pipeline.train.resume import checkpoint_to_resume

    sets = [load_face_set(faces / n, size) for n in names]
    pl.seed_everything(seed, workers=True, verbose=False)
    module = SegmentModule(
        Segmenter(cfg.width, cfg.levels).to(memory_format=torch.channels_last), cfg
    )
    ckpt, step = checkpoint_to_resume(checkpoints, fingerprint(cfg, seed, faces, names, size))
    if ckpt is not None:
        print(f"segment: resuming from step {step} of {cfg.steps} ({ckpt})", flush=True)
    shown = preview_batch(sets, cfg, seed)
    previews = PreviewLogger(
        lambda m: preview(m.net, shown), cfg.checkpoint_every, run_id, "segment_preview"
    )
    trainer, seconds = fit_steps(
        module,
        OccludedBatches(sets, cfg, seed),
        cfg.steps,
        step,
        ckpt,
        checkpoints,
        cfg.checkpoint_every,
        [previews],
        logger,
    )
    loss = trainer.callback_metrics.get("train/loss")
    return {
        "module": module,
        "preview": previews.last if previews.last is not None else preview(module.net, shown),
        "report": {
            "steps": int(trainer.global_step),
            "resumed_from_step": step,
            "train_loss": round(float(loss), 6) if loss is not None else None,
            "faces_per_second": round((cfg.steps - step) * cfg.batch_size / seconds, 1),
            "identities": names,
            "faces": sum(len(s) for s in sets),
        },
    }


def write_segmenter(result: dict, cfg: DictConfig, size: int, out: Path) -> None:
    net = result["module"].net
    meta = {"width": cfg.width, "levels": cfg.levels, "input_size": size} | {
        k: result["report"][k] for k in ("steps", "identities")
    }
    with atomic_outputs(out) as (tmp,):
        tmp.mkdir()
        state = {k: v.contiguous() for k, v in net.state_dict().items()}
        save_file(state, tmp / "segmenter.safetensors")
        (tmp / "segmenter.json").write_text(json.dumps(meta, indent=1) + "\n")
        cv2.imwrite(str(tmp / "preview.png"), result["preview"])


def load_segmenter(folder: Path) -> tuple[Segmenter, dict]:
    meta = json.loads((folder / "segmenter.json").read_text())
    net = Segmenter(meta["width"], meta["levels"])
    net.load_state_dict(load_file(folder / "segmenter.safetensors"))
    return net.to(memory_format=torch.channels_last).eval(), meta
