"""`tracking=server`: stages log to a real `mlflow server` on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

import mlflow
import pytest

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.tracking import stage_run
from tests.conftest import BIN, ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mlflow server did not start")
            time.sleep(0.5)
        yield url, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
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
