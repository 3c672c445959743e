"""Colour transfer of the swapped face toward the target face: one plugin per file.

``refine.color`` picks the plugin by name from ``PLUGINS``. A new one subclasses
``ColorTransfer`` (base.py), implements ``transfer``, and is added to the table below;
the config check and the docs list ``MODES`` from it.
"""

from __future__ import annotations

from pipeline.plugins import pick
from pipeline.refine.color.base import ColorTransfer, lab, region_stats
from pipeline.refine.color.hist import HistogramMatch
from pipeline.refine.color.lct import LinearTransfer
from pipeline.refine.color.none import Unchanged
from pipeline.refine.color.rct import Reinhard

PLUGINS: dict[str, type[ColorTransfer]] = {
    "none": Unchanged,
    "rct": Reinhard,
    "lct": LinearTransfer,
    "hist": HistogramMatch,
}
MODES = tuple(PLUGINS)


def make(mode: str, smoothing: float = 0.0) -> ColorTransfer:
    return pick(PLUGINS, mode, "colour mode")(smoothing)


__all__ = ["MODES", "PLUGINS", "ColorTransfer", "lab", "make", "region_stats"]
