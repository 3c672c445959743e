"""The provenance record: what the C2PA manifest says, in plain JSON beside the outputs."""

from __future__ import annotations

import datetime
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from pipeline.provenance.content_credentials import SOURCE_TYPE
from pipeline.provenance.watermark import CELL, run_tag


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def params_sha256(cfg: DictConfig) -> str:
    """Hash of every parameter that can change an output (tracking cannot)."""
    params = OmegaConf.to_container(cfg, resolve=True)
    params.pop("tracking", None)
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def tool_version() -> str:
    try:
        return version("facepipe")
    except PackageNotFoundError:
        return "unknown"


def provenance_record(cfg: DictConfig, run_id: str, stage: str, model_file: Path) -> dict:
    prov = cfg.provenance
    return {
        "schema": "facepipe.provenance/1",
        "ai_generated": True,
        "digital_source_type": SOURCE_TYPE,
        "tool": "facepipe",
        "tool_version": tool_version(),
        "stage": stage,
        "run_id": run_id,
        "run_tag": run_tag(run_id),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model_sha256": sha256_file(model_file),
        "params_sha256": params_sha256(cfg),
        "watermark": {
            "scheme": "facepipe-spread-spectrum/1",
            "payload": "run_tag (48 bits) + CRC-16",
            "cell": CELL,
            "strength": prov.watermark_strength,
            "face_strength": prov.watermark_face_strength,
        },
        "visible_label": prov.label_text if prov.label else None,
    }
