"""C2PA manifests (Content Credentials) through c2pa-python, offline.

Signing declares the media AI-generated (IPTC ``trainedAlgorithmicMedia``) and names the
run, the model and the parameters in an ``org.facepipe.run`` assertion. Reading reports
whether a manifest is there and valid: signature, hard-binding hash and assertion hashes
intact. A self-signed key is not on any trust list, so ``signingCredential.untrusted``
is reported as a trust note, not as invalidity. Signing must be the last step: remuxing a
signed file (``ffmpeg -c copy``) drops the manifest.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import c2pa

from pipeline.provenance.credentials import Credentials

SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
RUN_ASSERTION = "org.facepipe.run"
TRUST_ONLY = frozenset({"signingCredential.untrusted"})
MIME = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".wav": "audio/wav",  # the converted voice (pipeline/voice): a RIFF chunk of its own
}
_SETTINGS = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "builder": {"thumbnail": {"enabled": False}},
}


def manifest_definition(record: dict, title: str) -> dict:
    return {
        "claim_generator_info": [{"name": "facepipe", "version": record["tool_version"]}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": SOURCE_TYPE,
                            "softwareAgent": {"name": "facepipe"},
                        }
                    ]
                },
            },
            {
                "label": RUN_ASSERTION,
                "data": {
                    k: record[k]
                    for k in ("run_id", "run_tag", "model_sha256", "params_sha256", "stage")
                },
            },
        ],
    }


def sign(path: Path, record: dict, creds: Credentials) -> None:
    """Embed a signed manifest into ``path`` (rewritten through a temporary sibling)."""
    path = Path(path)
    mime = MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"cannot sign {path}: only {', '.join(MIME)} files")
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, creds.chain_pem, creds.key_pem, None)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    try:
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(
                manifest_definition(record, path.name), context=c2pa.Context.from_dict(_SETTINGS)
            ) as builder,
            open(path, "rb") as src,
            os.fdopen(fd, "w+b") as dst,
        ):
            builder.sign(signer, mime, src, dst)
        os.chmod(tmp, path.stat().st_mode & 0o777)  # mkstemp made it owner-only
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> dict:
    """{'present', 'valid', 'errors', 'trust', 'run_id', 'source_type', 'run'} of a file."""
    out = {"present": False, "valid": False, "errors": [], "trust": [], "run_id": None}
    out |= {"source_type": None, "run": None}
    try:
        reader = c2pa.Reader.try_create(str(path), context=c2pa.Context.from_dict(_SETTINGS))
    except c2pa.C2paError.NotSupported:
        return out
    except c2pa.C2paError as err:  # a manifest store is there but broken
        return out | {"present": True, "errors": [str(err).splitlines()[0][:200]]}
    if reader is None:
        return out
    with reader:
        store = json.loads(reader.json())
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [e.get("code") for e in results.get("failure") or [] if e.get("code")]
    out["present"] = True
    out["errors"] = [c for c in failures if c not in TRUST_ONLY]
    out["trust"] = [c for c in failures if c in TRUST_ONLY]
    out["valid"] = (
        bool(active)
        and not out["errors"]
        and store.get("validation_state")
        in (
            "Valid",
            "Trusted",
        )
    )
    for a in active.get("assertions", []):
        data = a.get("data") or {}
        if a.get("label", "").startswith("c2pa.actions"):
            for act in data.get("actions", []):
                if act.get("action") == "c2pa.created":
                    out["source_type"] = act.get("digitalSourceType")
        elif a.get("label") == RUN_ASSERTION:
            out["run"] = data
            out["run_id"] = data.get("run_id")
    return out
