"""MLflow tracking: one parent run per pipeline execution, one nested run per stage.

Each DVC stage is its own process, so the stages of one ``dvc repro`` / ``dvc exp run``
find their shared parent by an execution key stored as a tag: the process id and start
time of the DVC process that launched them (or FACEPIPE_EXECUTION if set). The store is
SQLite in the project root by default, resolved through DVC_ROOT so that queued
experiments, which run in a temporary copy, still log into the project's store.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
from omegaconf import DictConfig

from pipeline.config.load import flatten
from pipeline.paths import project_root

EXECUTION_TAG = "facepipe.execution"
STAGE_TAG = "facepipe.stage"


def tracking_uri(tracking: DictConfig, root: Path | None = None) -> str:
    if tracking.backend == "server":
        return str(tracking.uri)
    root = root or project_root()
    return f"sqlite:///{(root / tracking.db).resolve()}"


def artifact_root(tracking: DictConfig, root: Path | None = None) -> str | None:
    """Where new experiments keep artifacts; the server decides for a remote store."""
    if tracking.backend == "server":
        return None
    folder = (root or project_root()) / tracking.artifacts / tracking.experiment
    return folder.resolve().as_uri()


def execution_key() -> str:
    """Identifies this pipeline execution across its stage processes."""
    if os.environ.get("FACEPIPE_EXECUTION"):
        return os.environ["FACEPIPE_EXECUTION"]
    proc = psutil.Process()
    for p in [proc, *proc.parents()]:
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(p.cmdline())
            if _is_dvc(cmd):
                return f"dvc-{p.pid}-{int(p.create_time() * 1000)}"
    return f"proc-{proc.pid}-{int(proc.create_time() * 1000)}"


def _is_dvc(cmdline: str) -> bool:
    words = cmdline.split()
    return any(Path(w).name == "dvc" for w in words[:2]) or "dvc.cli" in cmdline


def git_revision(root: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _experiment_id(mlflow, name: str, artifacts: str | None) -> str:
    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    try:
        return mlflow.create_experiment(name, artifact_location=artifacts)
    except mlflow.exceptions.MlflowException:
        # Another stage process (a parallel queue worker) created it first.
        return mlflow.get_experiment_by_name(name).experiment_id


def _parent_run_id(mlflow, exp_id: str, key: str, cfg: DictConfig, root: Path) -> str:
    found = mlflow.search_runs(
        [exp_id],
        filter_string=f"tags.`{EXECUTION_TAG}` = '{key}'",
        output_format="list",
        max_results=1,
    )
    if found:
        return found[0].info.run_id
    exp_name = os.environ.get("DVC_EXP_NAME", "")
    tags = {
        EXECUTION_TAG: key,
        "mlflow.source.git.commit": git_revision(root),
        "dvc.exp_name": exp_name,
    }
    run = mlflow.MlflowClient().create_run(exp_id, tags=tags, run_name=exp_name or None)
    params = flatten(cfg)
    mlflow.MlflowClient().log_batch(
        run.info.run_id, params=[mlflow.entities.Param(k, str(v)) for k, v in params.items()]
    )
    return run.info.run_id


@contextlib.contextmanager
def stage_run(
    cfg: DictConfig, stage: str, stage_params: dict[str, Any] | None = None
) -> Iterator[Any]:
    """Open the stage's run, nested under this execution's parent run, and yield it.

    The parent carries every parameter (flattened); the stage run carries its own.
    """
    import mlflow

    root = project_root()
    mlflow.set_tracking_uri(tracking_uri(cfg.tracking, root))
    exp_id = _experiment_id(mlflow, cfg.tracking.experiment, artifact_root(cfg.tracking, root))
    mlflow.set_experiment(experiment_id=exp_id)
    parent_id = _parent_run_id(mlflow, exp_id, execution_key(), cfg, root)
    with mlflow.start_run(run_id=parent_id, log_system_metrics=False):
        with mlflow.start_run(run_name=stage, nested=True, tags={STAGE_TAG: stage}) as run:
            if stage_params:
                mlflow.log_params({k: str(v) for k, v in flatten(stage_params).items()})
            yield run


def execution_run_id(stage: Any) -> str:
    """The parent run of a stage run: the pipeline execution that outputs are marked with."""
    return stage.data.tags.get("mlflow.parentRunId") or stage.info.run_id
