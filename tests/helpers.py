"""What tests share: the project root, running commands, scratch repos, the smoke config,
a real MLflow server, waiting for DVC's queue, and a training killed at a checkpoint.
Fixtures live in conftest.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: dvc, mlflow


def project_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [f for f in out.stdout.splitlines() if (ROOT / f).is_file()]


def run(
    cmd: list[str], cwd: Path, env: dict | None = None, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **(env or {}),
    }
    proc = subprocess.run(
        cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_scratch_repo(repo: Path) -> Path:
    """A git repository at ``repo`` holding a copy of the project's files (no outputs,
    no store)."""
    for f in project_files():
        dst = repo / f
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dst)
    run(["git", "init", "-q", "-b", "main"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"], repo)
    return repo


def commit_params(repo: Path, *overrides: str) -> dict:
    """Compose the repo's conf/ with ``overrides`` into its params.yaml and commit it."""
    import yaml

    from pipeline.config.compose import compose_conf

    params = compose_conf(list(overrides), conf_dir=repo / "conf")
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "params"], repo)
    return params


def mlflow_runs(repo: Path) -> tuple[list, list]:
    """(parent runs, stage runs) in the repo's MLflow store, newest first."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    exp = client.get_experiment_by_name("facepipe")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return parents, [r for r in runs if "mlflow.parentRunId" in r.data.tags]


def smoke_cfg(*overrides: str):
    """The validated smoke preset of this checkout's conf/, with ``overrides``."""
    from pipeline.config.compose import compose_conf
    from pipeline.config.load import validate

    return validate(compose_conf(["experiment=smoke", *overrides], ROOT / "conf"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(store: Path, artifacts: Path) -> Iterator[str]:
    """A real ``mlflow server`` on 127.0.0.1 over the SQLite ``store``; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "1", "--backend-store-uri", f"sqlite:///{store}"]
        + ["--artifacts-destination", str(artifacts)],
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
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for_queue(repo: Path, n: int) -> str:
    """Poll ``dvc queue status`` until ``n`` experiments have ended; returns the status."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = run(["dvc", "queue", "status"], repo).stdout
        if status.count("Success") + status.count("Failed") >= n:
            return status
        time.sleep(3)
    raise AssertionError(f"the queue did not finish:\n{status}")


def unlisted_params(repo: Path, reads: Path) -> dict[str, list[str]]:
    """Stage -> params keys it read (recorded in ``reads`` through RECORD_ENV while DVC
    ran it) that its ``params:`` in dvc.yaml do not cover. ``tracking`` is read by every
    stage and changes no output."""
    import json

    import yaml

    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    by_cmd = {s["cmd"]: name for name, s in stages.items()}
    missing: dict[str, list[str]] = {}
    for line in reads.read_text().splitlines():
        row = json.loads(line)
        name = by_cmd[row["cmd"]]
        listed = stages[name].get("params", [])
        keys = [
            k
            for k in row["keys"]
            if not k.startswith("tracking.")
            and not any(k == p or k.startswith(f"{p}.") for p in listed)
        ]
        if keys:
            missing[name] = sorted(set(missing.get(name, [])) | set(keys))
    return missing


def killed_then_resumed(train: Callable[[], Any], stop_at: int) -> Any:
    """Run ``train()`` (a step-wise fit, pipeline/train/stepwise.py) dying right after the
    checkpoint at step ``stop_at`` (as a kill -9 would leave it), then again, resuming;
    returns the second run's result."""
    import pytest

    from pipeline.train import stepwise as module

    original = module.AtomicCheckpoint

    class Killing(original):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
            if trainer.global_step == stop_at:
                raise SystemExit("killed")

    module.AtomicCheckpoint = Killing
    try:
        with pytest.raises(SystemExit):
            train()
    finally:
        module.AtomicCheckpoint = original
    return train()
