"""Which checkpoint, if any, a train run continues from.

A checkpoint is valid for a run when the run's fingerprint (parameters that shape
training, and the faces it reads) matches the one stored beside it; otherwise the
folder is cleared and training starts over.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from pipeline import precision
from pipeline.errors import UserError


def fingerprint(cfg: DictConfig, faces_dir: Path, identities: list[str]) -> str:
    h = hashlib.sha256()
    keep = {k: OmegaConf.to_container(cfg[k]) for k in ("model", "train")}
    keep["seed"] = cfg.seed
    # Devices and strategy change speed, not the run; workers do not change batches.
    keep["trainer"] = {
        "precision": precision.training(cfg.trainer.accelerator, cfg.trainer.precision)
    }
    keep["train"].pop("num_workers", None)
    h.update(json.dumps(keep, sort_keys=True).encode())
    if cfg.train.init:  # the starting weights are part of the run
        weights = Path(cfg.train.init) / "model.safetensors"
        h.update(weights.read_bytes() if weights.is_file() else b"")
    for name in identities:
        index = faces_dir / name / "index.json"
        h.update(index.read_bytes() if index.is_file() else b"")
        h.update("\n".join(sorted(p.name for p in (faces_dir / name).glob("*.png"))).encode())
    return h.hexdigest()


def load_checkpoint(path: Path) -> dict:
    """A training checkpoint, loaded without running code: tensors, numbers, strings and
    containers only (``weights_only``). A pickle that asks for anything else is refused."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(
            f"{path} is not a checkpoint this project wrote ({first[:120]}); delete it "
            "to train from the start."
        ) from err


def checkpoint_to_resume(folder: Path, fp: str, owner: bool = True) -> tuple[Path | None, int]:
    """(last.ckpt, its step) when it belongs to this run; else (None, 0).

    The owner (the first process) also clears a folder that belongs to another run and
    stamps it with this run's fingerprint; DDP's extra processes, started after that,
    only look, so every rank resumes from the same checkpoint.
    """
    last, stamp = folder / "last.ckpt", folder / "fingerprint.txt"
    if last.is_file() and stamp.is_file() and stamp.read_text().strip() == fp:
        return last, int(load_checkpoint(last).get("global_step", 0))
    if not owner:
        return None, 0
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    stamp.write_text(fp + "\n")
    return None, 0
