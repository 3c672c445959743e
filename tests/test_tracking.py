"""One parent run per execution, one nested run per stage, in the project's store."""

from __future__ import annotations

import mlflow
import pytest

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.tracking import EXECUTION_TAG, STAGE_TAG, stage_run, tracking_uri
from tests.helpers import ROOT


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A project root in tmp_path, as DVC would announce it."""
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    mlflow.set_tracking_uri(None)


def _runs(root):
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    exp = client.get_experiment_by_name("facepipe")
    return client.search_runs([exp.experiment_id]), exp


def test_stages_of_one_execution_share_a_parent(store, monkeypatch):
    cfg = validate(compose_conf(conf_dir=ROOT / "conf"))
    monkeypatch.setenv("FACEPIPE_EXECUTION", "exec-1")
    monkeypatch.setenv("DVC_EXP_NAME", "brisk-lamb")
    for stage in ("collect", "train"):
        with stage_run(cfg, stage, {"x": 1}):
            mlflow.log_metric("m", 1.0)
    monkeypatch.setenv("FACEPIPE_EXECUTION", "exec-2")
    with stage_run(cfg, "collect"):
        pass

    runs, exp = _runs(store)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    stages = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 2 and len(stages) == 3
    first = next(r for r in parents if r.data.tags[EXECUTION_TAG] == "exec-1")
    children = [r for r in stages if r.data.tags["mlflow.parentRunId"] == first.info.run_id]
    assert sorted(r.data.tags[STAGE_TAG] for r in children) == ["collect", "train"]
    assert first.data.tags["dvc.exp_name"] == "brisk-lamb"
    assert first.data.params["data.identities.0.name"] == "synth_a"
    assert first.data.params["tracking.backend"] == "sqlite"
    # Artifacts land in the project root, not in a temporary copy.
    assert exp.artifact_location.startswith((store / "mlartifacts").as_uri())


def test_store_is_absolute_in_the_dvc_root(store, tmp_path_factory, monkeypatch):
    cfg = validate(compose_conf(conf_dir=ROOT / "conf"))
    elsewhere = tmp_path_factory.mktemp("exp-copy")
    monkeypatch.chdir(elsewhere)  # as in .dvc/tmp/exps/<copy>
    assert tracking_uri(cfg.tracking) == f"sqlite:///{store / 'mlflow.db'}"
