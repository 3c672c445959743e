"""Compose ``conf/`` into params.yaml exactly as ``dvc exp run`` does.

``python -m pipeline.config.compose [override ...]`` rewrites params.yaml; ``make params``
calls it after editing conf/ so a plain ``dvc repro`` sees the change.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import OmegaConf

from pipeline.paths import project_root


def compose_conf(overrides: list[str] | None = None, conf_dir: Path | None = None) -> dict:
    """The composed config as plain data, with the schemas registered."""
    from hydra import compose, initialize_config_dir

    from pipeline.config.schema import register_configs

    register_configs()
    conf_dir = conf_dir or project_root() / "conf"
    with initialize_config_dir(str(conf_dir.resolve()), version_base=None):
        cfg = compose(config_name="config", overrides=overrides or [])
    return OmegaConf.to_container(cfg, resolve=True)


def main(argv: list[str]) -> None:
    from dvc.utils.hydra import compose_and_dump

    root = project_root()
    compose_and_dump(root / "params.yaml", str(root / "conf"), None, "config", str(root), argv)
    print(f"wrote {root / 'params.yaml'}")


if __name__ == "__main__":
    main(sys.argv[1:])
