"""Outputs appear whole or not at all: write to a temporary sibling, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_outputs(*finals: str | Path) -> Iterator[list[Path]]:
    """Yield temporary paths for ``finals``; on success each replaces its final path.

    On an exception (or Ctrl-C) the temporaries are deleted and the finals are left as
    they were, so an interrupted stage never leaves half an output behind.
    """
    finals_p = [Path(f) for f in finals]
    temps = [f.with_name(f".{f.name}.tmp-{os.getpid()}") for f in finals_p]
    for f, t in zip(finals_p, temps):
        f.parent.mkdir(parents=True, exist_ok=True)
        _remove(t)
    try:
        yield temps
    except BaseException:
        for t in temps:
            _remove(t)
        raise
    for f, t in zip(finals_p, temps):
        if not t.exists():
            raise FileNotFoundError(f"the stage did not write its output {f}")
        old = f.with_name(f".{f.name}.old-{os.getpid()}")
        if f.exists() or f.is_symlink():
            os.replace(f, old)
        os.replace(t, f)
        _remove(old)
