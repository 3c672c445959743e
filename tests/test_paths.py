"""One table of the files the stages read and write (pipeline/paths.py), equal to dvc.yaml's."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline import paths

# Written by the project but never DVC outputs: a re-run would delete the checkpoint a
# killed training resumes from; the search is not a stage.
NOT_OUTPUTS = {paths.CHECKPOINTS, paths.SEARCH_REPORT}


def _dvc_paths(root: Path) -> tuple[set[Path], set[Path]]:
    """(outputs, data dependencies) that dvc.yaml names; code dependencies left out."""
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    outs, deps = set(), set()
    for stage in stages.values():
        for key in ("outs", "metrics", "plots"):
            outs |= {Path(o if isinstance(o, str) else next(iter(o))) for o in stage.get(key, [])}
        deps |= {Path(d) for d in stage.get("deps", []) if not d.startswith("pipeline")}
    return outs, deps


def test_dvc_yaml_and_the_paths_table_name_the_same_files(root):
    outs, deps = _dvc_paths(root)
    table = {v for k, v in vars(paths).items() if k.isupper() and isinstance(v, Path)}
    inside_an_out = {p for p in table if any(o in p.parents for o in outs)}
    holding_outs = {p for p in table if any(p in o.parents for o in outs)}  # reports/
    assert outs == table - NOT_OUTPUTS - inside_an_out - holding_outs
    assert deps <= outs, "every data dependency is another stage's output"
    assert not NOT_OUTPUTS & outs


def test_stages_state_no_path_of_their_own(root):
    """A path literal in a stage module would drift from dvc.yaml unnoticed."""
    table = {str(v) for k, v in vars(paths).items() if k.isupper() and isinstance(v, Path)}
    for module in sorted((root / "pipeline").rglob("*.py")):
        if module.name == "paths.py":
            continue
        text = module.read_text()
        stated = sorted(p for p in table if f'Path("{p}")' in text or f"Path('{p}')" in text)
        assert not stated, f"{module.relative_to(root)} states {stated}; use pipeline.paths"
