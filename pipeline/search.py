"""Optuna search over training parameters, each trial an MLflow run under the search's.

    python -m pipeline.search [hparams_search=train] [--trials N] [override ...]

The search space is ``conf/hparams_search/<name>.yaml``. Every trial composes ``conf/``
with the search's overrides, the command line's and its own sampled values (the same
typed composition ``dvc exp run -S`` uses), trains on the collected faces in ``data/faces``
and reports the validation loss. DVC's queue cannot drive a Hydra sweeper, and Hydra's
Optuna plugin pins optuna < 3, so Optuna is driven here directly. Trial checkpoints live
in ``checkpoints/search/`` and never touch the pipeline's own. The best trial's overrides
go to ``reports/search.json``: pass them to ``dvc exp run -S`` to make them the pipeline's.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

import yaml

from pipeline import paths
from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.errors import UserError, run_entry_point
from pipeline.paths import project_root

CHECKPOINTS = paths.CHECKPOINTS / "search"


def load_search(name: str, conf_dir: Path) -> dict:
    path = conf_dir / "hparams_search" / f"{name}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise UserError(f"hparams_search={name} is not in {path.parent} (choices: {choices}).")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, dist in spec["space"].items():
        if dist.get("type") not in ("float", "int", "categorical"):
            raise UserError(f"{path}: space.{key} needs type float, int or categorical.")
    return spec


def compose(overrides: list[str], conf_dir: Path):
    """The validated config of ``overrides``; a bad override is a UserError naming it."""
    from hydra.errors import HydraException

    try:
        return validate(compose_conf(overrides, conf_dir))
    except HydraException as err:
        first = str(err).strip().splitlines()[0]
        raise UserError(f"{first} Check the override's key and value.") from err


def suggest(trial, space: dict) -> list[str]:
    """The trial's values as Hydra overrides."""
    out = []
    for key, d in space.items():
        if d["type"] == "float":
            v = trial.suggest_float(key, d["low"], d["high"], log=d.get("log", False))
        elif d["type"] == "int":
            v = trial.suggest_int(key, d["low"], d["high"], log=d.get("log", False))
        else:
            v = trial.suggest_categorical(key, d["choices"])
        out.append(f"{key}={v}")
    return out


def run_search(name: str, trials: int | None, overrides: list[str]) -> dict:
    import mlflow
    import optuna

    from pipeline.tracking import stage_run
    from pipeline.train.stage import train

    root = project_root()
    conf_dir = root / "conf"
    spec = load_search(name, conf_dir)
    base = list(spec.get("overrides") or []) + overrides
    cfg = compose(base, conf_dir)  # a bad override fails before any work
    n_trials = trials or spec["n_trials"]
    sampler = optuna.samplers.TPESampler(seed=spec.get("seed", 0))
    study = optuna.create_study(direction=spec["direction"], sampler=sampler)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)

    with stage_run(cfg, "search", {"search": name, "overrides": " ".join(base)}) as search:

        def objective(trial) -> float:
            values = suggest(trial, spec["space"])
            trial_cfg = compose(base + values, conf_dir)
            folder = root / CHECKPOINTS / f"trial_{trial.number}"
            shutil.rmtree(folder, ignore_errors=True)
            with mlflow.start_run(run_name=f"trial {trial.number}", nested=True) as r:
                mlflow.set_tag("facepipe.stage", "search-trial")
                mlflow.log_params({v.split("=")[0]: v.split("=", 1)[1] for v in values})
                result = train(trial_cfg, r.info.run_id, checkpoints=folder)
                value = result["report"][spec["metric"]]
                if value is None:  # not measured (e.g. no validation faces)
                    raise optuna.TrialPruned(f"{spec['metric']} was not measured")
                mlflow.log_metric(spec["metric"], value)
            shutil.rmtree(folder, ignore_errors=True)
            print(f"search: trial {trial.number} {' '.join(values)} -> {spec['metric']} {value}")
            return value

        study.optimize(objective, n_trials=n_trials)
        best = study.best_trial
        report = {
            "search": name,
            "metric": spec["metric"],
            "direction": spec["direction"],
            "trials": len(study.trials),
            "best_value": best.value,
            "best_overrides": [f"{k}={v}" for k, v in best.params.items()],
            "search_run_id": search.info.run_id,
        }
        mlflow.log_metric(f"best_{spec['metric']}", best.value)
        mlflow.log_params({f"best.{k}": v for k, v in best.params.items()})
    (root / paths.SEARCH_REPORT).parent.mkdir(parents=True, exist_ok=True)
    (root / paths.SEARCH_REPORT).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.search", description=__doc__)
    parser.add_argument("--trials", type=int, help="number of trials (default: the config's)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. experiment=smoke")
    args = parser.parse_args(argv)
    name = "train"
    rest = []
    for o in args.overrides:
        if o.startswith("hparams_search="):
            name = o.split("=", 1)[1]
        else:
            rest.append(o)
    report = run_search(name, args.trials, rest)
    print(
        f"search: best {report['metric']} {report['best_value']} with "
        f"{' '.join(report['best_overrides'])} ({report['trials']} trials; {paths.SEARCH_REPORT})"
    )


if __name__ == "__main__":
    run_entry_point("search", lambda: main(sys.argv[1:]))
