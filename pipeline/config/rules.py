"""Value rules the schema's types cannot state (ranges, choices, relations between keys),
checked by one helper so every stage refuses a bad value the same way, before any work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.errors import UserError

Rule = tuple[bool, str]  # (holds, what the key must be)


def choice(value: Any, allowed: Iterable[Any], key: str) -> Rule:
    allowed = tuple(allowed)
    return value in allowed, f"{key} is {value!r}, expected one of: {', '.join(map(str, allowed))}"


def enforce(rules: Iterable[Rule]) -> None:
    """Raise a UserError for the first rule that does not hold."""
    for ok, message in rules:
        if not ok:
            raise UserError(f"{message}; fix it in conf/ or with '-S'.")
