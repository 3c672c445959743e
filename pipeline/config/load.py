"""Read params.yaml (what DVC records) into a typed, validated config.

Stages never compose ``conf/`` themselves: ``dvc exp run`` writes params.yaml from it and
``dvc repro`` uses params.yaml as it is, so reading params.yaml is the only way a stage
runs with exactly the parameters DVC recorded. Validation against the schemas happens
here, before any work, and a problem becomes a ``UserError`` naming the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from pipeline.config.ranges import range_rules
from pipeline.config.read_log import RECORD_ENV, record_reads
from pipeline.config.rules import enforce, finite_rules, name_rules
from pipeline.config.schema import GROUP_SCHEMAS, Config
from pipeline.errors import UserError


def _schema_for(group: str, section: Any, source: str) -> DictConfig:
    key, choices = GROUP_SCHEMAS[group]
    if not isinstance(section, dict):
        raise UserError(f"{source}: '{group}' must be a mapping of keys; fix it in conf/{group}/.")
    choice = section.get(key)
    if not isinstance(choice, str) or choice not in choices:
        known = ", ".join(sorted(choices))
        raise UserError(
            f"{source}: '{group}.{key}' is {choice!r}, expected one of: {known}; "
            f"pick one with '-S {group}=<choice>'."
        )
    return OmegaConf.structured(choices[choice])


def validate(raw: Any, source: str = "params.yaml") -> DictConfig:
    """Merge ``raw`` (a plain dict) onto the schemas; raise UserError naming a bad key."""
    if not isinstance(raw, dict):
        raise UserError(f"{source} does not hold a mapping; regenerate it with 'dvc exp run'.")
    base = OmegaConf.structured(Config)
    for group in GROUP_SCHEMAS:
        if group not in raw:
            raise UserError(f"{source} has no '{group}' section; regenerate it with 'dvc exp run'.")
        base[group] = _schema_for(group, raw[group], source)
    try:
        cfg = OmegaConf.merge(base, raw)
    except ConfigKeyError as err:
        raise UserError(
            f"{source}: unknown key {err.full_key!r}; remove it or fix its spelling "
            f"(the known keys are in pipeline/config/schema.py)."
        ) from err
    except ValidationError as err:
        key = _locate(raw, err.full_key, err.msg)
        raise UserError(
            f"{source}: '{key}' has the wrong type: {err.msg.splitlines()[0]}; "
            f"fix the value in conf/ or with '-S'."
        ) from err
    except OmegaConfBaseException as err:
        key = err.full_key or _first_bad_key(base, raw) or "?"
        raise UserError(
            f"{source}: {key!r} has a value of the wrong kind ({err.msg.splitlines()[0]}); "
            "fix the value in conf/ or with '-S'."
        ) from err
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise UserError(f"{source}: '{missing[0]}' has no value; set it in conf/ or with '-S'.")
    enforce(name_rules(cfg.data), f"{source}: ", "rename it")
    enforce(finite_rules(cfg), f"{source}: ")
    enforce(range_rules(cfg), f"{source}: ")
    OmegaConf.set_readonly(cfg, True)
    return cfg


def _first_bad_key(base: DictConfig, raw: dict, prefix: str = "") -> str | None:
    """The dotted key whose value OmegaConf cannot merge (its errors name none when a
    mapping meets a list), found by merging one key at a time."""
    for k, v in raw.items():
        try:
            OmegaConf.merge(base, {k: v})
        except OmegaConfBaseException:
            sub = base.get(k) if isinstance(base, DictConfig) else None
            if isinstance(v, dict) and isinstance(sub, DictConfig):
                return _first_bad_key(sub, v, f"{prefix}{k}.") or f"{prefix}{k}"
            return f"{prefix}{k}"
    return None


def _locate(raw: Any, key: str, msg: str) -> str:
    """The dotted path of ``key`` in ``raw``.

    OmegaConf reports only the leaf name for a bad value inside a list of typed items;
    find the path whose leaf is ``key`` and whose value the message quotes, or else the
    one path with that leaf whose value is of the kind the message refuses (a null value
    is not quoted: "is not Optional").
    """
    if "." in key:  # already a path
        return key
    shown = re.match(r"Value '(.*)' of type", msg)  # the value the message quotes, whole
    exact: list[str] = []
    quoted: list[str] = []
    named: list[str] = []
    # Messages that quote no value still say what kind of value was wrong.
    if "is not Optional" in msg:
        fits = lambda v: v is None  # noqa: E731
    elif "is not a ListConfig" in msg:
        fits = lambda v: not isinstance(v, list)  # noqa: E731
    elif "is not a DictConfig" in msg or "is not a subclass" in msg:
        fits = lambda v: not isinstance(v, dict)  # noqa: E731
    else:
        fits = lambda v: True  # noqa: E731

    def walk(node: Any, path: str) -> None:
        items = (
            node.items()
            if isinstance(node, dict)
            else (enumerate(node) if isinstance(node, list) else [])
        )
        for k, v in items:
            p = f"{path}[{k}]" if isinstance(node, list) else (f"{path}.{k}" if path else str(k))
            if str(k) == key:
                if fits(v):
                    named.append(p)
                if shown and str(v) == shown.group(1):
                    exact.append(p)
                if f"'{v}'" in msg:  # a leaf of 0 is also "quoted" by a value of {'0': 0}
                    quoted.append(p)
            walk(v, p)

    walk(raw, "")
    if exact or quoted:
        return (exact or quoted)[0]
    return named[0] if len(named) == 1 else key


def load_params(path: str | Path = "params.yaml") -> DictConfig:
    """The validated, read-only config in ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise UserError(f"{path} is missing; run 'dvc exp run' or restore it from git.") from err
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UserError(f"{path} is not valid YAML ({err.problem}); fix or regenerate it.") from err
    cfg = validate(raw, str(path))
    if os.environ.get(RECORD_ENV):  # after validation, which reads every key
        record_reads(cfg, Path(os.environ[RECORD_ENV]))
    return cfg


def flatten(cfg: DictConfig | dict, prefix: str = "") -> dict[str, Any]:
    """Dotted keys to leaf values (lists indexed as key.0, key.1), for MLflow params."""
    node = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    out: dict[str, Any] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{key}.{i}")
        else:
            out[key] = value

    walk(node, prefix)
    return out
