"""The committed dvc.lock and reports/ come from one run: each report is the file the
lock recorded (a report copied in from another run, or edited by hand, fails here)."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from pipeline import paths
from tests.helpers import ROOT, run

pytestmark = pytest.mark.slow  # runs `dvc status`


def _tracked(*names: str) -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", *names], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_committed_reports_are_the_ones_the_committed_lock_recorded():
    tracked = _tracked("dvc.lock", str(paths.REPORTS))
    assert "dvc.lock" in tracked, "the README promises a committed dvc.lock"
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    recorded = {
        out["path"]
        for stage in lock.values()
        for out in stage.get("outs", [])
        if out["path"].startswith(f"{paths.REPORTS}/")
    }
    assert recorded, "dvc.lock records the reports of a run"
    for report in recorded:
        target = ROOT / report
        files = {str(p.relative_to(ROOT)) for p in target.rglob("*") if p.is_file()}
        assert (files or {report}) <= tracked, f"{report} is in dvc.lock but not committed"
    assert str(paths.SEARCH_REPORT) not in tracked
    status = json.loads(run(["dvc", "status", "--json"], ROOT).stdout or "{}")
    changed = {
        path
        for entries in status.values()
        for entry in entries
        if isinstance(entry, dict)
        for path, state in entry.get("changed outs", {}).items()
        if path in recorded and state != "deleted"
    }
    assert not changed, f"{sorted(changed)} differ from what dvc.lock recorded"
