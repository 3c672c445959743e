"""Where the project's root is, also from inside DVC's queued-experiment copies."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """DVC_ROOT when DVC runs the stage (it names the real repository even for queued
    experiments, which run in a temporary copy); else the nearest folder up from the
    working directory that holds dvc.yaml; else the working directory."""
    env = os.environ.get("DVC_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "dvc.yaml").is_file():
            return d
    return here
