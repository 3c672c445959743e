"""The refine stage: colour, blend, sharpen, smooth, encode with audio, mark, seal."""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from pipeline import paths
from pipeline.config.load import load_params
from pipeline.config.rules import choice, enforce
from pipeline.errors import UserError
from pipeline.generate.targets import open_targets
from pipeline.io.atomic import atomic_outputs
from pipeline.io.encoding import PRESETS
from pipeline.provenance.marks import FrameMarker, check_provenance
from pipeline.provenance.seal import seal_outputs
from pipeline.provenance.watermark import run_tag
from pipeline.refine import blend, color
from pipeline.refine.refine import refine_target, write_report
from pipeline.tracking import execution_run_id, stage_run
from pipeline.viz.grid import image_grid


def check_config(cfg: DictConfig) -> None:
    r = cfg.refine
    rules = [  # every number's range is checked on load (config/ranges.py)
        choice(r.color, color.MODES, "refine.color"),
        choice(r.color_region, ("skin", "face"), "refine.color_region"),
        choice(r.mask.source, blend.SOURCES, "refine.mask.source"),
        choice(r.blend, blend.MODES, "refine.blend"),
        choice(r.image_format, ("png", "jpg"), "refine.image_format"),
        choice(r.preset, PRESETS, "refine.preset"),
        choice(r.hd.preset, PRESETS, "refine.hd.preset"),
    ]
    enforce(rules)
    check_provenance(cfg.provenance)


def before_after_sheet(pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Rows of (original, refined) pairs under "before" and "after" headers."""
    images = [im for pair in pairs for im in pair]
    return image_grid(images, 2, col_labels=["before", "after"])


def refine_all(cfg: DictConfig, out_root: Path, tag: str) -> list[dict]:
    targets = open_targets(paths.TARGETS)
    for t in targets:
        if not (paths.GENERATED / t.name / "meta.json").is_file():
            raise UserError(
                f"{paths.GENERATED / t.name} is missing; run the generate stage (dvc repro generate)."
            )
    marker = FrameMarker(tag, cfg.provenance)
    stats = []
    with tqdm(total=sum(t.frames for t in targets), desc="refine", unit="frame") as bar:
        for t in targets:
            voice = paths.VOICE_OUT / f"{t.name}.wav"
            use = cfg.voice.kind == "convert" and t.kind == "video" and voice.is_file()
            stats.append(
                refine_target(
                    t,
                    paths.GENERATED / t.name,
                    cfg.refine,
                    out_root / t.name,
                    marker,
                    bar,
                    voice if use else None,
                )
            )
    return stats


def main() -> None:
    cfg = load_params()
    check_config(cfg)
    with stage_run(cfg, "refine", {"refine": OmegaConf.to_container(cfg.refine)}) as run:
        import mlflow

        run_id = execution_run_id(run)
        with atomic_outputs(paths.FINAL) as (tmp,):
            tmp.mkdir()
            stats = refine_all(cfg, tmp, run_tag(run_id))
            seal_outputs(cfg, run_id, [tmp / s["target"] for s in stats], "refine")
        paths.REFINE_REPORT.parent.mkdir(parents=True, exist_ok=True)
        with atomic_outputs(paths.REFINE_REPORT) as (report_tmp,):
            write_report(report_tmp, stats)
        frames = sum(s["frames"] for s in stats)
        seconds = sum(s["seconds"] for s in stats)
        metrics = {"frames_per_second": frames / max(seconds, 1e-9)}
        for s in stats:
            for k in ("frames_per_second", "color_gap_before", "color_gap_after"):
                metrics[f"{k}.{s['target']}"] = s[k]
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp_dir:
            for s in stats:
                if s["pairs"]:
                    sheet = Path(tmp_dir) / f"before_after_{s['target']}.png"
                    cv2.imwrite(str(sheet), before_after_sheet(s["pairs"]))
                    mlflow.log_artifact(str(sheet), "refine")
        for s in stats:
            if s["kind"] == "video":
                for name in s["files"]:
                    mlflow.log_artifact(str(paths.FINAL / s["target"] / name), "refine")
            mlflow.log_artifact(
                str(paths.FINAL / s["target"] / "provenance.json"), f"refine/{s['target']}"
            )
        print(
            f"refine: {frames} frames of {len(stats)} target(s), "
            f"{metrics['frames_per_second']:.1f} frames/s -> {paths.FINAL}/ (MLflow run {run.info.run_id})"
        )
