"""How the swapped face meets the frame: one plugin per file.

``refine.blend`` picks the plugin by name from ``PLUGINS``. A new one subclasses
``Blender`` (base.py), implements ``__call__`` and is added to the table below.
"""

from __future__ import annotations

from pipeline.plugins import pick
from pipeline.refine.blenders.alpha import AlphaBlend
from pipeline.refine.blenders.base import Blender
from pipeline.refine.blenders.poisson import PoissonBlend

PLUGINS: dict[str, type[Blender]] = {"alpha": AlphaBlend, "poisson": PoissonBlend}
MODES = tuple(PLUGINS)


def make(mode: str) -> Blender:
    return pick(PLUGINS, mode, "blend mode")()


__all__ = ["MODES", "PLUGINS", "Blender", "make"]
