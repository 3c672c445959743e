"""The trained model as files: weights (safetensors) and what is needed to rebuild it."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file
from torch import nn

from pipeline.errors import UserError
from pipeline.train.models.swap import build_model

WEIGHTS = "model.safetensors"
META = "model.json"


def export_model(model: nn.Module, folder: Path, meta: dict) -> None:
    """Write ``model``'s weights and ``meta`` (must hold 'model' config and 'identities')."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS))
    (folder / META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load_model(folder: Path, device: str = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the exported model in eval mode, and its metadata."""
    meta_path, weights = folder / META, folder / WEIGHTS
    if not meta_path.is_file() or not weights.is_file():
        raise UserError(f"{folder} holds no trained model; run the train stage (dvc repro train).")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    model = build_model(OmegaConf.create(meta["model"]), len(meta["identities"]))
    model.load_state_dict(load_file(str(weights), device=device))
    return model.to(torch.device(device)).eval(), meta
