"""The generate stage: swap the face in every target with the trained model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from pipeline import paths
from pipeline.config.load import load_params
from pipeline.config.rules import choice, enforce
from pipeline.errors import UserError
from pipeline.faces.smoothing import METHODS
from pipeline.faces.template import HEAD_COVERAGE
from pipeline.generate.swap import generate_target
from pipeline.generate.swapper import Swapper
from pipeline.generate.targets import Target, open_targets
from pipeline.io.atomic import atomic_outputs
from pipeline.io.encoding import PRESETS
from pipeline.provenance.marks import FrameMarker, check_markable, check_provenance
from pipeline.provenance.seal import seal_outputs
from pipeline.provenance.watermark import run_tag
from pipeline.tracking import execution_run_id, stage_run
from pipeline.train.export import load_model

OCCLUSION_MASKS = ("segmenter", "own_decoder")


def check_config(cfg: DictConfig) -> None:
    g = cfg.generate
    rules = [  # every number's range is checked on load (config/ranges.py)
        choice(g.precision, ("auto", "bf16", "fp32"), "generate.precision"),
        choice(g.smoothing.method, METHODS, "generate.smoothing.method"),
        choice(g.occlusion_mask, OCCLUSION_MASKS, "generate.occlusion_mask"),
        choice(g.preset, PRESETS, "generate.preset"),
    ]
    enforce(rules)
    check_provenance(cfg.provenance)


def load_swap_model(cfg: DictConfig, folder: Path = paths.MODELS):
    model, meta = load_model(folder)
    if meta["input_size"] != cfg.model.input_size:
        raise UserError(
            f"{folder} was trained at model.input_size={meta['input_size']} but the config "
            f"says {cfg.model.input_size}; re-run training (dvc repro train)."
        )
    return model, meta


def swap_index(target: Target, identities: list[str]) -> int:
    if target.swap_to not in identities:
        raise UserError(
            f"target '{target.name}' swaps to '{target.swap_to}', which the model in "
            f"{paths.MODELS} was not trained on ({', '.join(identities)}); re-run training."
        )
    return identities.index(target.swap_to)


def own_index(target: Target, identities: list[str]) -> int | None:
    """The decoder of the person in the target, whose mask sees what covers their face
    (refine.mask.source=occlusion): the performer where known, else with two identities
    the one the target is not swapped to; None when it cannot be told."""
    if target.performer in identities:
        return identities.index(target.performer)
    others = [k for k, name in enumerate(identities) if name != target.swap_to]
    return others[0] if len(others) == 1 else None


def load_occlusion(cfg: DictConfig, size: int, folder: Path = paths.SEGMENTER):
    """What generate.occlusion_mask asks for: the segmenter as a function of crops, or
    None for the own decoder's mask."""
    if cfg.generate.occlusion_mask != "segmenter":
        return None
    from pipeline.segment.model import segment
    from pipeline.segment.train import load_segmenter

    if not (folder / "segmenter.json").is_file():
        raise UserError(
            f"{folder} holds no occlusion segmenter; run the segment stage (dvc repro "
            "segment) or set generate.occlusion_mask=own_decoder."
        )
    net, seg_meta = load_segmenter(folder)
    if seg_meta["input_size"] != size:
        raise UserError(
            f"the segmenter in {folder} works on {seg_meta['input_size']}-pixel crops and "
            f"the model on {size}; re-run the segment stage (dvc repro segment)."
        )
    return lambda crops: segment(net, crops)


def generate_all(
    cfg: DictConfig,
    targets: list[Target],
    model,
    meta: dict,
    out_root: Path,
    tag: str,
    occlusion: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[dict]:
    """``occlusion``: the visible-face masks of crops (load_occlusion), else the own
    decoder's."""
    marker = FrameMarker(tag, cfg.provenance)
    size = meta["input_size"]
    stats = []
    with tqdm(total=sum(t.frames for t in targets), desc="generate", unit="frame") as bar:
        for target in targets:
            swapper = Swapper(
                model,
                swap_index(target, meta["identities"]),
                cfg.generate.precision,
                own_index(target, meta["identities"]),
                occlusion,
            )
            stats.append(
                generate_target(
                    target,
                    swapper,
                    size,
                    cfg.generate,
                    out_root / target.name,
                    marker,
                    bar,
                    meta.get("coverage", HEAD_COVERAGE),
                )
            )
    return stats


def main() -> None:
    cfg = load_params()
    check_config(cfg)
    targets = open_targets(paths.TARGETS)
    model, meta = load_swap_model(cfg)
    occlusion = load_occlusion(cfg, meta["input_size"])
    for t in targets:
        swap_index(t, meta["identities"])
        size = t.meta.get("size")
        height, width = t.meta.get("height", size), t.meta.get("width", size)
        if height and width:
            check_markable(height, width, f"target '{t.name}'")
    params = {"generate": OmegaConf.to_container(cfg.generate)}
    with stage_run(cfg, "generate", params) as run:
        import mlflow

        run_id = execution_run_id(run)
        with atomic_outputs(paths.GENERATED) as (tmp,):
            tmp.mkdir()
            stats = generate_all(cfg, targets, model, meta, tmp, run_tag(run_id), occlusion)
            seal_outputs(cfg, run_id, [tmp / s["target"] / "raw" for s in stats], "generate")
        frames = sum(s["frames"] for s in stats)
        seconds = sum(s["seconds"] for s in stats)
        metrics = {"frames_per_second": frames / max(seconds, 1e-9)}
        for s in stats:
            metrics |= {f"{k}.{s['target']}": s[k] for k in ("faces", "no_face_frames")}
            metrics[f"frames_per_second.{s['target']}"] = s["frames_per_second"]
        mlflow.log_metrics(metrics)
        for s in stats:
            if s["kind"] == "video":
                mlflow.log_artifact(
                    str(paths.GENERATED / s["target"] / "raw" / f"{s['target']}.mp4"), "generate"
                )
        print(
            f"generate: {frames} frames of {len(stats)} target(s), "
            f"{metrics['frames_per_second']:.1f} frames/s (MLflow run {run.info.run_id})"
        )
