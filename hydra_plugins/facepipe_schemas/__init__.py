"""Registers facepipe's typed config schemas when Hydra (or DVC) scans for plugins.

DVC composes ``conf/`` on ``dvc exp run`` without importing the project; Hydra's plugin
scan imports every ``hydra_plugins`` module, which makes the schemas known there too.
"""

from pipeline.config.schema import register_configs

register_configs()
