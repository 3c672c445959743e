"""Plugin tables, faceswap-style: a package holds a base class, one implementation per
file, and a table from the config value to the class. ``pick`` is the one lookup."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def pick(plugins: dict[str, type[T]], name: str, what: str) -> type[T]:
    """The class registered as ``name``; the config check refuses unknown names earlier,
    so this is a programming error when it fires."""
    if name not in plugins:
        raise ValueError(f"{what} {name!r} is not one of {tuple(plugins)}")
    return plugins[name]
