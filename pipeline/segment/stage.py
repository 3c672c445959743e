"""The segment stage: train the occlusion segmenter on the collected faces, for
generate to mark what covers the target's face (refine.mask.source=occlusion)."""

from __future__ import annotations

import json
import logging

from omegaconf import DictConfig, OmegaConf

from pipeline import paths
from pipeline.config.load import load_params
from pipeline.config.rules import enforce
from pipeline.io.atomic import atomic_outputs
from pipeline.tracking import stage_run, tracking_uri

CHECKPOINTS = paths.CHECKPOINTS / "segment"


def check_config(cfg: DictConfig) -> None:
    step = 2 ** (cfg.segment.levels - 1)  # the U-Net halves the crop levels - 1 times
    size = cfg.model.input_size
    rule = (
        size % step == 0 and size // step >= 2,
        f"segment.levels={cfg.segment.levels} needs model.input_size to be a multiple of "
        f"{step} and at least {2 * step} (it is {size})",
    )
    enforce([rule], fix="lower segment.levels or change model.input_size")


def main() -> None:
    import mlflow
    from pytorch_lightning.loggers import MLFlowLogger

    from pipeline.segment.train import train_segmenter, write_segmenter

    cfg = load_params()
    check_config(cfg)
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    with stage_run(cfg, "segment", {"segment": OmegaConf.to_container(cfg.segment)}) as run:
        logger = MLFlowLogger(
            experiment_name=cfg.tracking.experiment,
            run_id=run.info.run_id,
            tracking_uri=tracking_uri(cfg.tracking),
        )
        names = [i.name for i in cfg.data.identities]
        size = cfg.model.input_size
        result = train_segmenter(
            cfg.segment, cfg.seed, paths.FACES, names, size, CHECKPOINTS, logger, run.info.run_id
        )
        write_segmenter(result, cfg.segment, size, paths.SEGMENTER)
        report = result["report"]
        client = mlflow.MlflowClient()
        client.log_artifact(run.info.run_id, str(paths.SEGMENTER / "preview.png"), "segment")
        for k in ("train_loss", "faces_per_second"):
            if report[k] is not None:  # a run resumed at its last step has no loss
                client.log_metric(run.info.run_id, f"report/{k}", float(report[k]))
        with atomic_outputs(paths.SEGMENT_REPORT) as (tmp,):
            tmp.write_text(json.dumps(report, indent=1) + "\n")
        print(
            f"segment: {report['steps']} steps, {report['faces_per_second']} faces/s, "
            f"loss {report['train_loss']} -> {paths.SEGMENTER}/ (MLflow run {run.info.run_id})"
        )
