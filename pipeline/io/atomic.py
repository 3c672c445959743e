"""Outputs appear whole or not at all: write to a temporary sibling, then rename."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_siblings(final: Path) -> list[Path]:
    """Delete the temporary and backup siblings of ``final`` left by a process that is
    gone (killed with -9, or a crash the cleanup could not catch); returns them."""
    pattern = re.compile(rf"^\.{re.escape(final.name)}\.(tmp|old)-(\d+)$")
    gone = []
    if not final.parent.is_dir():
        return gone
    for sibling in final.parent.iterdir():
        m = pattern.match(sibling.name)
        if m and int(m.group(2)) != os.getpid() and not _alive(int(m.group(2))):
            _remove(sibling)
            gone.append(sibling)
    return gone


@contextlib.contextmanager
def atomic_outputs(*finals: str | Path) -> Iterator[list[Path]]:
    """Yield temporary paths for ``finals``; on success each replaces its final path.

    On an exception (or Ctrl-C) the temporaries are deleted and the finals are left as
    they were, so an interrupted stage never leaves half an output behind. A process
    killed outright cannot clean up: the next run removes what it left.
    """
    finals_p = [Path(f) for f in finals]
    temps = [f.with_name(f".{f.name}.tmp-{os.getpid()}") for f in finals_p]
    for f, t in zip(finals_p, temps):
        f.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_siblings(f)
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
