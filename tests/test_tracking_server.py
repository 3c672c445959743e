"""`tracking=server`: stages log to a real `mlflow server` on 127.0.0.1."""

from __future__ import annotations

import mlflow
import pytest

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.tracking import stage_run
from tests.helpers import ROOT
from tests.helpers import mlflow_server as server_on


@pytest.fixture
def mlflow_server(tmp_path):
    with server_on(tmp_path / "server.db", tmp_path / "server-artifacts") as url:
        yield url, tmp_path
    mlflow.set_tracking_uri(None)


@pytest.mark.slow
def test_stage_runs_log_to_a_tracking_server(mlflow_server, monkeypatch, tmp_path):
    url, server_dir = mlflow_server
    monkeypatch.setenv("FACEPIPE_EXECUTION", "server-exec")
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    cfg = validate(compose_conf(["tracking=server", f"tracking.uri={url}"], ROOT / "conf"))
    with stage_run(cfg, "collect", {"a": 1}):
        mlflow.log_metric("faces", 3)
        artifact = tmp_path / "note.txt"
        artifact.write_text("hello")
        mlflow.log_artifact(str(artifact), "collect")
    client = mlflow.MlflowClient(tracking_uri=url)
    runs = client.search_runs([client.get_experiment_by_name("facepipe").experiment_id])
    stage = next(r for r in runs if "mlflow.parentRunId" in r.data.tags)
    assert stage.data.metrics["faces"] == 3
    assert list((server_dir / "server-artifacts").rglob("note.txt"))
    assert not (tmp_path / "mlflow.db").exists()
