"""The consent record a real person's footage and recordings need before any is read."""

from __future__ import annotations

import hashlib
from pathlib import Path

from omegaconf import DictConfig

from pipeline.errors import UserError


def check_consent(root: Path, ident: DictConfig) -> dict:
    """The consent record must exist and name the identity; else nothing is read."""
    path = root / ident.consent
    if not path.is_file():
        raise UserError(
            f"identity '{ident.name}' has no consent record at {path}; collecting a real "
            "person needs one: a file that names them and records their consent."
        )
    text = path.read_text(encoding="utf-8", errors="replace")
    if ident.name.lower() not in text.lower():
        raise UserError(
            f"the consent record {path} does not name the identity '{ident.name}'; "
            "use the identity's name in it."
        )
    return {
        "kind": "real footage",
        "consent_record": str(ident.consent),
        "consent_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
