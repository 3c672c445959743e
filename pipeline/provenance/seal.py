"""Seal finished outputs: sign each media file with C2PA, then write provenance.json.

Called last on every output folder (after encoding and muxing: a remux drops the
manifest). A folder's provenance.json lists each file it sealed with its SHA-256.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from pipeline import paths
from pipeline.paths import project_root
from pipeline.provenance import content_credentials
from pipeline.provenance.credentials import load_credentials
from pipeline.provenance.record import provenance_record, sha256_file
from pipeline.tracking import git_revision

PROVENANCE = "provenance.json"


def seal_folder(folder: Path, record: dict, creds, origin: str) -> dict:
    """Sign every MP4/JPEG/PNG/WAV directly in ``folder`` and write its provenance.json."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in content_credentials.MIME:
            content_credentials.sign(path, record, creds)
            files[path.name] = sha256_file(path)
    full = record | {"c2pa": {"alg": "ES256", "signer": origin}, "files": files}
    (folder / PROVENANCE).write_text(json.dumps(full, indent=1) + "\n", encoding="utf-8")
    return full


def seal_outputs(
    cfg: DictConfig, run_id: str, folders: list[Path], stage: str, model: Path = paths.MODEL_FILE
) -> dict:
    root = project_root()
    prov = cfg.provenance
    creds = load_credentials(root, prov.certificate, prov.private_key)
    record = provenance_record(cfg, run_id, stage, model)
    record["git_commit"] = git_revision(root)
    for folder in folders:
        seal_folder(folder, record, creds, creds.origin)
    return record
