"""Which params each stage reads, for the test that every one is listed in dvc.yaml."""

from __future__ import annotations

import atexit
import json
import re
import sys
from pathlib import Path

from omegaconf import Container, DictConfig, OmegaConf
from omegaconf.basecontainer import BaseContainer

# Set to a file path, every stage appends the params keys it reads (one JSON line per
# process); tests/helpers.unlisted_params compares them with each stage's params in dvc.yaml.
RECORD_ENV = "FACEPIPE_RECORD_PARAMS"


def record_reads(cfg: DictConfig, log: Path) -> None:
    """Record the dotted key of every leaf value read from ``cfg`` in this process.

    OmegaConf has no read hook, so the one method every attribute, item and list read
    resolves through is wrapped. Whole-group copies (``OmegaConf.to_container``, used to
    log params to MLflow and to hash them into the provenance record) are not reads of a
    value the stage computes with, and are not recorded.
    """
    if getattr(BaseContainer._resolve_with_default, "_recording", False):
        return
    keys: set[str] = set()
    copying = [0]  # depth of to_container calls in progress: their reads are not recorded
    original, to_container = BaseContainer._resolve_with_default, OmegaConf.to_container

    def recording(self, key, value, default_value=None):
        out = original(self, key, value, default_value)
        if not copying[0] and not isinstance(out, Container) and self._get_root() is cfg:
            keys.add(re.sub(r"\[-?\d+\]", "", self._get_full_key(key)))
        return out

    def copy(*args, **kwargs):
        copying[0] += 1
        try:
            return to_container(*args, **kwargs)
        finally:
            copying[0] -= 1

    recording._recording = True
    BaseContainer._resolve_with_default = recording
    OmegaConf.to_container = staticmethod(copy)
    main = Path(sys.argv[0]).resolve()
    root = Path(__file__).resolve().parents[2]
    module = ".".join(main.parent.relative_to(root).parts) if main.is_relative_to(root) else ""
    cmd = " ".join(["python -m", module, *sys.argv[1:]] if module else sys.argv)

    def write() -> None:
        with log.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"cmd": cmd, "keys": sorted(keys)}) + "\n")

    atexit.register(write)
