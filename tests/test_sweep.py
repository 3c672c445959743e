"""A queued DVC sweep: two experiments, one MLflow parent run each, compared in a browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import (
    commit_params,
    make_scratch_repo,
    mlflow_runs,
    mlflow_server,
    run,
    wait_for_queue,
)

pytestmark = pytest.mark.slow  # DVC queue, a real MLflow server and a browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=20000",
]


def chromium(url: str, profile: Path, *args: str) -> str:
    """Render ``url`` in headless Chromium with a fresh profile; returns stdout."""
    exe = shutil.which("chromium")
    assert exe, "Debian's chromium is needed (make test installs it: see the Makefile)"
    proc = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two queued experiments, run by `dvc queue start` in temporary copies of the repo:
    their runs must reach the project's own MLflow store and artifacts."""
    repo = make_scratch_repo(tmp_path_factory.mktemp("sweep") / "repo")
    commit_params(repo, "experiment=smoke")
    run(
        ["dvc", "exp", "run", "--queue", "-S", "experiment=smoke", "-S", "refine.color=rct,lct"],
        repo,
    )
    run(["dvc", "queue", "start", "-j", "1"], repo)
    status = wait_for_queue(repo, 2)
    assert status.count("Success") == 2, status
    return repo


def test_sweep_gives_two_experiments_with_their_params_and_metrics(sweep):
    shown = json.loads(run(["dvc", "exp", "show", "--json"], sweep).stdout)
    exps = [
        e["data"]
        for rev in shown
        for exp in (rev.get("experiments") or [])
        for e in exp["revs"]
        if e.get("data")
    ]
    colors = {e["params"]["params.yaml"]["data"]["refine"]["color"] for e in exps}
    assert colors == {"rct", "lct"}
    for e in exps:
        metrics = e["metrics"]["reports/metrics.json"]["data"]
        assert 0 < metrics["ssim"] <= 1 and "identity_retrieval" in metrics

    parents, _ = mlflow_runs(sweep)
    assert len(parents) == 2
    assert {p.data.params["refine.color"] for p in parents} == {"rct", "lct"}
    names = {p.data.tags["dvc.exp_name"] for p in parents}
    assert len(names) == 2 and "" not in names
    for p in parents:
        assert {"ssim", "identity_retrieval", "watermark_found"} <= set(p.data.metrics)
    # The queued runs reached the project's store, not the temporary copies'.
    shown_names = {e["name"] for rev in shown for e in (rev.get("experiments") or [])}
    assert names <= shown_names, (names, shown_names)
    assert list((sweep / "mlartifacts").rglob("faces_grid.png"))


def test_mlflow_ui_shows_both_runs_a_parameter_and_a_metric(sweep, tmp_path):
    parents, _ = mlflow_runs(sweep)
    exp_id = parents[0].info.experiment_id
    names = [p.info.run_name for p in parents]
    ids = json.dumps([p.info.run_id for p in parents]).replace(" ", "")
    with mlflow_server(sweep / "mlflow.db", sweep / "mlartifacts") as url:
        page = chromium(f"{url}/#/experiments/{exp_id}/runs", tmp_path / "p1", "--dump-dom")
        for name in names:
            assert name in page, f"run {name} is not on the experiment page"
        compare = f'{url}/#/compare-runs?runs={ids}&experiments=["{exp_id}"]'
        page = chromium(compare, tmp_path / "p2", "--window-size=1400,1200", "--dump-dom")
        for text in (*names, "refine.color", "rct", "lct", "identity_retrieval", "ssim"):
            assert text in page, f"{text!r} is not on the compare page"
        shot = tmp_path / "mlflow_compare.png"
        chromium(compare, tmp_path / "p3", "--window-size=1400,2400", f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000
    # FACEPIPE_DOCS=docs keeps the screenshot for the README.
    if os.environ.get("FACEPIPE_DOCS"):
        shutil.copy(shot, Path(os.environ["FACEPIPE_DOCS"]) / shot.name)
