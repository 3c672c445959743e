"""The Optuna search: trials train for real and nest under the search's MLflow run."""

from __future__ import annotations

import json

import mlflow

from tests.helpers import commit_params, run


def test_search_runs_trials_nested_under_its_run(scratch_repo):
    repo = scratch_repo
    commit_params(repo, "experiment=smoke")
    run(["dvc", "repro", "collect"], repo)
    proc = run(
        ["python", "-m", "pipeline.search", "--trials", "2", "experiment=smoke"],
        repo,
        env={"DVC_ROOT": str(repo)},
    )
    assert proc.stdout.count("search: trial ") == 2
    report = json.loads((repo / "reports/search.json").read_text())
    assert report["trials"] == 2 and report["metric"] == "val_loss"
    assert {o.split("=")[0] for o in report["best_overrides"]} == {
        "train.lr",
        "train.dssim_weight",
        "train.mask_weight",
        "model.latent_dim",
    }

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    exp = client.get_experiment_by_name("facepipe")
    runs = client.search_runs([exp.experiment_id])
    search = next(r for r in runs if r.data.tags.get("facepipe.stage") == "search")
    assert search.info.run_id == report["search_run_id"]
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == search.info.run_id]
    assert len(trials) == 2
    for t in trials:
        assert "val_loss" in t.data.metrics and "train.lr" in t.data.params
    assert "best_val_loss" in search.data.metrics
    # The pipeline's own checkpoints are untouched by the trials.
    assert not (repo / "checkpoints/train").exists()


def test_an_unknown_search_or_key_is_one_clear_error(scratch_repo):
    repo = scratch_repo
    bad = run(["python", "-m", "pipeline.search", "hparams_search=nope"], repo, check=False)
    assert bad.returncode == 2 and "hparams_search=nope" in bad.stderr
    assert "Traceback" not in bad.stderr
    bad = run(["python", "-m", "pipeline.search", "train.lrr=1"], repo, check=False)
    assert bad.returncode == 2 and "train.lrr" in bad.stderr and "Traceback" not in bad.stderr
