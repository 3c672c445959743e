"""The trained model as files: weights (safetensors) and what is needed to rebuild it."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from safetensors.torch import load_file, save_file
from torch import nn

from pipeline.errors import UserError
from pipeline.train.models.swap import build_model

WEIGHTS = "model.safetensors"
META = "model.json"
SCALE = ".int8_scale"  # key suffix of an int8 tensor's per-output-channel scales


def quantize_int8(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights (2-D and up) as int8 with one float32 scale per output channel (symmetric,
    absmax / 127); vectors (biases, norms) as float16. Half the bytes of float16, and the
    rounding error (at most half a step, 1/254 of a channel's largest weight) is the
    kind that fine-tuning from these weights absorbs."""
    out = {}
    for k, v in state.items():
        v = v.detach().cpu().float()
        if v.ndim < 2:
            out[k] = v.half().contiguous()
            continue
        scale = v.abs().amax(dim=tuple(range(1, v.ndim))).clamp_min(1e-12) / 127
        shape = (-1,) + (1,) * (v.ndim - 1)
        out[k] = torch.round(v / scale.view(shape)).clamp(-127, 127).to(torch.int8).contiguous()
        out[k + SCALE] = scale
    return out


def dequantize(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """float32 weights from a state written by ``export_model`` in any of its dtypes."""
    out = {}
    for k, v in state.items():
        if k.endswith(SCALE):
            continue
        scale = state.get(k + SCALE)
        if scale is None:
            out[k] = v.float()
        else:
            out[k] = v.float() * scale.view((-1,) + (1,) * (v.ndim - 1))
    return out


def export_model(
    model: nn.Module, folder: Path, meta: dict, dtype: torch.dtype = torch.float32
) -> None:
    """Write ``model``'s weights (as ``dtype``; ``torch.int8`` quantizes them, see
    ``quantize_int8``) and ``meta`` (must hold 'model' config and 'identities')."""
    folder.mkdir(parents=True, exist_ok=True)
    if dtype == torch.int8:
        state = quantize_int8(model.state_dict())
    else:
        state = {k: v.detach().cpu().to(dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS))
    (folder / META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load_model(folder: Path, device: str = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the exported model in eval mode, and its metadata."""
    meta_path, weights = folder / META, folder / WEIGHTS
    if not meta_path.is_file() or not weights.is_file():
        raise UserError(f"{folder} holds no trained model; run the train stage (dvc repro train).")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    model = build_model(OmegaConf.create(meta["model"]), len(meta["identities"]))
    model.load_state_dict(dequantize(load_file(str(weights), device=device)))
    return model.to(torch.device(device)).eval(), meta


def load_initial_weights(
    model: nn.Module,
    folder: Path,
    cfg: DictConfig,
    coverage: float,
    parts: list[str] | tuple[str, ...] | None = None,
) -> None:
    """Start ``model`` (or only its top-level modules ``parts``) from the weights in
    ``folder`` (the pretrain stage's), which must have been trained for the same network
    and crops."""
    meta_path, weights = folder / META, folder / WEIGHTS
    if not meta_path.is_file() or not weights.is_file():
        raise UserError(
            f"train.init is '{folder}' but it holds no model; run 'make pretrain' or "
            "set train.init='' to train from scratch."
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    want = {"model": OmegaConf.to_container(cfg), "coverage": coverage}
    have = {"model": meta.get("model"), "coverage": meta.get("coverage")}
    if want != have:
        raise UserError(
            f"the weights in {folder}/ were pretrained for other model or crop settings "
            f"({have}, not {want}); run 'make pretrain' or set train.init='' to train from "
            "scratch."
        )
    state = dequantize(load_file(str(weights)))
    if parts is not None:
        state = {k: v for k, v in state.items() if k.split(".", 1)[0] in parts}
        # The parts left out keep the random weights the model was built with.
        own = model.state_dict()
        state = {k: own[k] for k in own if k.split(".", 1)[0] not in parts} | state
    try:
        model.load_state_dict(state)
    except RuntimeError as err:  # e.g. another number of identities (decoders)
        raise UserError(
            f"{weights} does not fit this model ({str(err).splitlines()[0]}); run "
            "'make pretrain' for it or set train.init='' to train from scratch."
        ) from err
