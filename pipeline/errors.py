"""The one error type a user can act on, and how stage entry points report it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


class UserError(Exception):
    """Bad input or configuration: the message is one sentence saying what to do."""


def debug_requested() -> bool:
    """Tracebacks are shown when FACEPIPE_DEBUG=1 or HYDRA_FULL_ERROR=1 is set."""
    return any(
        os.environ.get(k, "") not in ("", "0") for k in ("FACEPIPE_DEBUG", "HYDRA_FULL_ERROR")
    )


def run_entry_point(name: str, main: Callable[[], None]) -> None:
    """Run a stage's ``main``; a UserError becomes one line on stderr and exit code 2."""
    try:
        main()
    except UserError as err:
        if debug_requested():
            raise
        print(f"{name}: error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        if debug_requested():
            raise
        print(f"{name}: interrupted; nothing was written in place of the outputs.", file=sys.stderr)
        sys.exit(130)
