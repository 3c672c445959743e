"""Value rules the schema's types cannot state (ranges, choices, relations between keys),
checked by one helper so every stage refuses a bad value the same way, before any work."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig, ListConfig

from pipeline.errors import UserError

Rule = tuple[bool, str]  # (holds, what the key must be)


def choice(value: Any, allowed: Iterable[Any], key: str) -> Rule:
    allowed = tuple(allowed)
    return value in allowed, f"{key} is {value!r}, expected one of: {', '.join(map(str, allowed))}"


def enforce(rules: Iterable[Rule], source: str = "", fix: str = "fix it") -> None:
    """Raise a UserError for the first rule that does not hold."""
    for ok, message in rules:
        if not ok:
            raise UserError(f"{source}{message}; {fix} in conf/ or with '-S'.")


# A name becomes a folder under data/ and outputs/, a file name and an MLflow key.
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NAMED_LISTS = ("identities", "targets", "stills")


def name_rules(data: Any) -> list[Rule]:
    """Every identity, target and stills name is a safe slug, unique within its list,
    so that no name can lead a stage outside its outputs ('../../evil')."""
    rules: list[Rule] = []
    for listing in _NAMED_LISTS:
        names = [item.name for item in data.get(listing, [])]
        for k, name in enumerate(names):
            ok = SLUG.fullmatch(name) is not None and ".." not in name
            rules.append(
                (
                    ok,
                    f"data.{listing}[{k}].name is {name!r}: a name becomes a folder and an "
                    "MLflow key, so it must start with a letter or digit and hold only "
                    "letters, digits, '_', '.' and '-' (no '..')",
                )
            )
        dupes = sorted({n for n in names if names.count(n) > 1})
        rules.append(
            (not dupes, f"data.{listing} names {dupes} more than once; names must be unique")
        )
    # Clips and stills share data/targets/ and outputs/: one namespace.
    clips = [t.name for t in data.get("targets", [])] + [t.name for t in data.get("stills", [])]
    shared = sorted({n for n in clips if clips.count(n) > 1})
    rules.append(
        (not shared, f"data.targets and data.stills both name {shared}; names must be unique")
    )
    return rules


def finite_rules(node: Any, prefix: str = "") -> list[Rule]:
    """No number in the config is NaN or infinite: none of them means anything a stage
    could use, and one would surface as NaN losses or a crash far from the key."""
    rules: list[Rule] = []
    items = node.items() if hasattr(node, "items") else enumerate(node)
    for k, v in items:
        key = f"{prefix}[{k}]" if isinstance(k, int) else f"{prefix}{'.' if prefix else ''}{k}"
        if isinstance(v, float):
            rules.append((math.isfinite(v), f"{key} is {v}: numbers must be finite"))
        elif isinstance(v, (DictConfig, ListConfig, dict, list)):
            rules += finite_rules(v, key)
    return rules
