"""Typed schemas of every config group: each key's type and default.

``conf/`` holds the Hydra tree; its group files extend these schemas, so composing with
Hydra (``dvc exp run -S``) and loading ``params.yaml`` (``load_params``) both reject an
unknown key or a wrong type before any work starts. Keep this module free of heavy
imports: DVC imports it (through ``hydra_plugins``) on every ``dvc exp run``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class IdentityConf:
    """One synthetic person and how many training faces to render of them."""

    name: str = MISSING
    seed: int = MISSING
    frames: int = 1000


@dataclass
class TargetConf:
    """A target clip: ``identity`` performs; a perfect swap shows ``swap_to`` instead."""

    name: str = MISSING
    identity: str = MISSING
    swap_to: str = MISSING
    seconds: float = 6.0
    seed: int = 0


@dataclass
class SyntheticDataConf:
    source: str = "synthetic"
    frame_size: int = 256  # rendered frame side, pixels
    crop_size: int = 64  # aligned face crop side, pixels
    scenes: int = 8  # backgrounds per identity, each a stretch of the training frames
    fps: float = 25.0
    video_crf: int = 18  # H.264 quality of the target and ground-truth clips
    audio_hz: float = 220.0  # base pitch of the generated soundtrack
    preview_faces: int = 32  # crops shown in the MLflow grid per identity
    identities: list[IdentityConf] = field(
        default_factory=lambda: [
            IdentityConf(name="synth_a", seed=11),
            IdentityConf(name="synth_b", seed=8),
        ]
    )
    targets: list[TargetConf] = field(
        default_factory=lambda: [
            TargetConf(name="a_to_b", identity="synth_a", swap_to="synth_b", seed=5),
        ]
    )


@dataclass
class SqliteTrackingConf:
    backend: str = "sqlite"
    experiment: str = "facepipe"
    db: str = "mlflow.db"  # relative to the project root (DVC_ROOT inside queued runs)
    artifacts: str = "mlartifacts"  # likewise


@dataclass
class ServerTrackingConf:
    backend: str = "server"
    experiment: str = "facepipe"
    uri: str = "http://127.0.0.1:5000"


@dataclass
class Config:
    seed: int = 0
    data: Any = MISSING
    tracking: Any = MISSING


# Group -> discriminating key -> value -> schema. The discriminator tells ``load_params``
# which schema a params.yaml section must match.
GROUP_SCHEMAS: dict[str, tuple[str, dict[str, type]]] = {
    "data": ("source", {"synthetic": SyntheticDataConf}),
    "tracking": ("backend", {"sqlite": SqliteTrackingConf, "server": ServerTrackingConf}),
}


def register_configs() -> None:
    """Store the schemas in Hydra's ConfigStore (``conf/`` files name them in defaults)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    for group, (_, schemas) in GROUP_SCHEMAS.items():
        for choice, node in schemas.items():
            cs.store(group=group, name=f"{choice}_schema", node=node)
