"""The evaluators and evaluate stages.

``python -m pipeline.evaluate evaluators`` renders the gallery and trains the evaluators
(cached by DVC: they change only with the renderer, the seeds and ``evaluate``);
``python -m pipeline.evaluate`` scores every video target's final output against its
ground truth (a real clip, which has none: pipeline/evaluate/reference_free.py) and
writes reports/metrics.json, reports/plots/, and the headline metrics on the MLflow
parent run.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from pipeline import paths, precision
from pipeline.config.load import load_params
from pipeline.errors import UserError
from pipeline.evaluate.evaluators import (
    PERFORMANCE,
    build_evaluators,
    load_evaluators,
    render_gallery,
    save_evaluators,
)
from pipeline.evaluate.metrics import ClipScorer, Truth, WatermarkScore, score_clip
from pipeline.evaluate.occlusion import load_hidden, marked_and_encoded, occlusion_figures
from pipeline.evaluate.reference_free import score_without_truth
from pipeline.faces.detect import FaceAnalyzer
from pipeline.generate.targets import Target, open_targets
from pipeline.io.atomic import atomic_outputs
from pipeline.io.encoding import Encoding
from pipeline.io.video import read_frames
from pipeline.tracking import execution_run_id, stage_run

HEADLINE = (
    "identity_retrieval",
    "identity_retrieval_truth",
    "pose_error",
    "expression_error",
    "ssim",
    "psnr",
    "eye_ssim",
    "ssim_head_truth",
    "psnr_head_truth",
    "flicker",
    "watermark_found",
    "watermark_bit_accuracy",
    # real footage (no ground truth): pipeline/evaluate/reference_free.py
    "identity_nearer_new",
    "identity_distance_new",
    "landmark_error",
    "mouth_open_agreement",
    "flicker_vs_target",
    "seam_color_gap",
    # clips with occluders: pipeline/evaluate/occlusion.py
    "occluder_kept",
    "occluder_kept_unswapped",
    "mask_iou_predicted",
    "mask_iou_occlusion",
    # the voice (pipeline/evaluate/voice.py): held-out sentences, then the clips' tracks
    "voice_speaker_retrieval",
    "voice_speaker_retrieval_truth",
    "voice_mcd",
    "voice_log_f0_rmse",
    "voice_stoi",
    "audio_mcd",
    # Resemblyzer's speaker similarity, every clip (pipeline/evaluate/voice_similarity.py)
    "voice_similarity_new",
    "voice_similarity_new_unswapped",
    "voice_similarity_new_truth",
    "voice_share_nearer_new",
    "audio_watermark_found",
    "audio_watermark_bit_accuracy",
)
# Figures that only occluded clips have; every other headline figure is the mean over the
# clips without occluders, so adding an occlusion clip leaves the swap's headline as it was.
OCCLUSION_PREFIXES = ("occluder_kept", "mask_iou_")


def run_evaluators(cfg: DictConfig) -> None:
    with stage_run(cfg, "evaluators", {"evaluate": OmegaConf.to_container(cfg.evaluate)}):
        import mlflow

        gallery = render_gallery(cfg.data, cfg.evaluate)
        evs, report = build_evaluators(gallery, cfg.evaluate, cfg.seed)
        with atomic_outputs(paths.EVALUATORS, paths.EVALUATORS_REPORT) as (folder, report_tmp):
            save_evaluators(evs, folder, report)
            report_tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        mlflow.log_metrics({k: float(v) for k, v in report.items()})
        mlflow.log_param("precision_used", precision.inference("auto"))
        print(
            f"evaluators: {report['identities']} identities, held-out identity top-1 "
            f"{report['identity_top1']:.3f} (chance {report['chance_top1']:.3f}), pose MAE "
            f"{report['pose_mae_degrees']:.2f} deg, expression MAE {report['expression_mae']:.3f}"
        )


def clip_performance(track: np.lib.npyio.NpzFile) -> np.ndarray:
    fields = [str(f) for f in track["performance_fields"]]
    return track["performance"][:, [fields.index(k) for k in PERFORMANCE]]


def evaluate_targets(cfg: DictConfig) -> tuple[dict, dict[str, list[dict]]]:
    """Full metrics for clips with a ground truth; for the others (real footage) the
    figures that need none, beside the watermark reads."""
    clips, rows = {}, {}
    videos = [t for t in open_targets(paths.TARGETS) if t.kind == "video"]
    if not videos:
        raise UserError(f"{paths.TARGETS} has no clip to evaluate; add data.targets.")
    evs = load_evaluators(paths.EVALUATORS)[0] if any(t.truth for t in videos) else None
    for t in videos:
        final = paths.FINAL / t.name / f"{t.name}.mp4"
        if not final.is_file():
            raise UserError(f"{final} is missing; run the refine stage (dvc repro refine).")
        prov = json.loads((paths.FINAL / t.name / "provenance.json").read_text(encoding="utf-8"))
        if t.truth is None:
            marks = watermark_only(final, prov["run_tag"], t.frames)
            clips[t.name] = marks | without_truth(cfg, t, final)
            continue
        files = truth_files(t.folder, cfg.refine.color)
        with np.load(t.folder / "track.npz") as track:
            truths = [Truth(suffix, track[key]) for suffix, (_, key) in files.items()]
            landmarks = track["landmarks"]
            scorer = ClipScorer(
                evs, t.swap_to, clip_performance(track), landmarks, truths, prov["run_tag"]
            )
        outputs = tqdm(read_frames(final), total=t.frames, desc=f"evaluate {t.name}", unit="frame")
        truths = zip(*(read_frames(path) for path, _ in files.values()))
        clips[t.name], rows[t.name] = score_clip(scorer, outputs, (list(f) for f in truths))
        if (t.folder / "occluders.npz").is_file():
            width = t.meta.get("width") or t.meta["size"]
            hidden, kinds = load_hidden(t.folder / "occluders.npz", int(width))
            generated = paths.GENERATED / t.name
            with np.load(generated / "track.npz") as track:  # what refine marked by
                used = np.where(track["has_face"][:, None, None], track["landmarks"], np.nan)
            with tempfile.TemporaryDirectory() as tmp:
                unswapped = marked_and_encoded(
                    t,
                    prov["run_tag"],
                    cfg.provenance,
                    Encoding.of(cfg.refine),
                    Path(tmp) / "unswapped.mp4",
                    used,
                )
                clips[t.name] |= occlusion_figures(
                    t.media, final, hidden, landmarks, generated, kinds, unswapped
                )
            clips[t.name]["occluded"] = True
    return clips, rows


VOICE_HEADLINE = ("speaker_retrieval", "speaker_retrieval_truth", "mcd", "log_f0_rmse", "stoi")


def evaluate_voice(cfg: DictConfig, clips: dict) -> dict:
    """The voice figures (synthetic speakers: held-out sentences) and each converted
    clip's sound track figures added to ``clips``; {"skipped": why} when the voice branch
    did not run."""
    from pipeline.evaluate import voice as figures
    from pipeline.voice.stage import active

    why = active(cfg)
    if why:
        return {"skipped": why}
    from pipeline.evaluate.voice_similarity import speaker_embedding
    from pipeline.voice.evaluator import load_evaluator

    synthetic = cfg.data.source == "synthetic"
    # Real recordings have no speaker classifier (it knows synthetic voices only).
    speaker_evaluator = load_evaluator(paths.VOICE_EVALUATOR) if synthetic else None
    videos = [t for t in open_targets(paths.TARGETS) if t.kind == "video"]
    voices: dict[str, np.ndarray] = {}  # each new identity's embedding, made once
    for t in videos:
        if not (paths.VOICE_OUT / f"{t.name}.wav").is_file():
            continue  # a clip without sound keeps none
        if t.swap_to not in voices:
            voices[t.swap_to] = speaker_embedding(paths.VOICES / t.swap_to)
        final = paths.FINAL / t.name / f"{t.name}.mp4"
        prov = json.loads((paths.FINAL / t.name / "provenance.json").read_text())
        clips[t.name] |= figures.clip_figures(
            t, final, prov["run_tag"], voices[t.swap_to], speaker_evaluator
        )
    speed = {"conversion_real_time_factor": figures.conversion_speed()}
    if not synthetic:
        return speed  # real recordings: no held-out truth; the clips' figures say it
    first = next(t for t in videos if t.performer)
    held = figures.held_out_figures(
        cfg.data, cfg.voice, first.performer, first.swap_to, speaker_evaluator
    )
    report = json.loads(paths.VOICE_EVALUATOR_REPORT.read_text())
    return (
        held
        | speed
        | {
            "evaluator_held_out_top1": report["held_out_top1"],
            "gallery_speakers": len(report["speakers"]),
        }
    )


def headline_figures(clips: dict) -> dict:
    """Each figure's mean over the clips: occlusion figures over the occluded clips, the
    rest over the clips without occluders (all clips when every clip is occluded)."""
    plain = [c for c in clips.values() if not c.get("occluded")] or list(clips.values())
    keys = sorted({k for c in clips.values() for k in c} - {"frames", "occluded"})
    out = {}
    for k in keys:
        pool = list(clips.values()) if k.startswith(OCCLUSION_PREFIXES) else plain
        values = [c[k] for c in pool if k in c]
        if values:
            out[k] = round(float(np.mean(values)), 5)
    return out


def truth_files(folder: Path, color: str) -> dict[str, tuple[Path, str]]:
    """Metric suffix -> (clip, its landmarks' key in track.npz), the headline first.

    The headline truth is what a face swap can reach: the other person's inner face on
    the performer's head, in the skin tone the colour mode promises (the target's after
    colour transfer, the other person's with ``refine.color=none``). The whole-head
    render follows as ``_head_truth``: what the evaluators' own floors are measured on.
    """
    face = "face_truth" if color != "none" else "face_truth_source_skin"
    out = {"": (folder / f"{face}.mp4", f"{face}_landmarks")}
    if not out[""][0].is_file():
        raise UserError(f"{out[''][0]} is missing; re-run the collect stage (dvc repro collect).")
    out["_head_truth"] = (folder / "ground_truth.mp4", "truth_landmarks")
    return out


def without_truth(cfg: DictConfig, t: Target, final: Path) -> dict:
    """Identity, performance, flicker and seam figures of a clip with no ground truth,
    against the new identity's collected faces and the target itself."""
    index = paths.FACES / t.swap_to / "index.json"
    faces = json.loads(index.read_text(encoding="utf-8"))["faces"] if index.is_file() else []
    new_identity = np.array([f["embedding"] for f in faces if "embedding" in f])
    if not len(new_identity):
        raise UserError(
            f"{index} holds no face embeddings to measure identity with; "
            "re-run the collect stage (dvc repro collect)."
        )
    with np.load(t.folder / "track.npz") as track:
        tracked = track["landmarks"]
    outputs = tqdm(read_frames(final), total=t.frames, desc=f"evaluate {t.name}", unit="frame")
    figures = score_without_truth(
        FaceAnalyzer(cfg.detector), outputs, t.read(), tracked, new_identity
    )
    # The paste follows the smoothed landmarks: their frame-to-frame shake is its jitter.
    meta = json.loads((paths.GENERATED / t.name / "meta.json").read_text(encoding="utf-8"))
    return figures | {"paste_jitter": meta["landmark_jitter_used"]}


def watermark_only(final: Path, tag: str, frames: int) -> dict:
    score = WatermarkScore(tag)
    for frame in tqdm(read_frames(final), total=frames, desc=f"evaluate {final.stem}"):
        score.add(frame)
    return {"frames": len(score.frame_reads)} | score.result()


def speed_figures() -> dict:
    speed = {}
    train = paths.TRAIN_REPORT
    if train.is_file():
        sps = json.loads(train.read_text()).get("samples_per_second")
        if sps is not None:
            speed["train_samples_per_second"] = sps
    gen = [json.loads(p.read_text()) for p in sorted(paths.GENERATED.glob("*/meta.json"))]
    if gen:
        frames = sum(g["frames"] for g in gen)
        speed["generate_frames_per_second"] = round(frames / sum(g["seconds"] for g in gen), 2)
    refine = paths.REFINE_REPORT
    if refine.is_file():
        r = json.loads(refine.read_text()).values()
        frames = sum(v["frames"] for v in r)
        speed["refine_frames_per_second"] = round(frames / sum(v["seconds"] for v in r), 2)
    return speed


def write_reports(clips: dict, rows: dict[str, list[dict]], metrics: dict) -> None:
    paths.METRICS.parent.mkdir(parents=True, exist_ok=True)
    with atomic_outputs(paths.METRICS, paths.PLOTS) as (metrics_tmp, plots_tmp):
        metrics_tmp.write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
        plots_tmp.mkdir()
        for name, clip_rows in rows.items():
            with (plots_tmp / f"quality_{name}.csv").open("w", newline="") as f:
                w = csv.DictWriter(f, list(clip_rows[0]))
                w.writeheader()
                w.writerows(clip_rows)


def run_evaluate(cfg: DictConfig) -> None:
    with stage_run(cfg, "evaluate") as run:
        import mlflow

        clips, rows = evaluate_targets(cfg)
        voice = evaluate_voice(cfg, clips)
        evaluators_report = json.loads(paths.EVALUATORS_REPORT.read_text(encoding="utf-8"))
        headline = headline_figures(clips)
        headline |= {f"voice_{k}": v for k, v in voice.items() if k in VOICE_HEADLINE}
        metrics = headline | {
            "evaluators": evaluators_report,
            "speed": speed_figures(),
            "voice": voice,
            "clips": clips,
        }
        write_reports(clips, rows, metrics)
        flat = headline | {f"speed.{k}": v for k, v in metrics["speed"].items()}
        flat |= {f"evaluators.{k}": float(v) for k, v in evaluators_report.items()}
        mlflow.log_metrics(flat)
        # The headline numbers on the parent run: one row per experiment in the MLflow UI.
        client = mlflow.MlflowClient()
        parent = execution_run_id(run)
        for k in HEADLINE:
            if k in headline:
                client.log_metric(parent, k, headline[k])
        for k, v in metrics["speed"].items():
            client.log_metric(parent, k, float(v))
        for p in sorted(paths.PLOTS.glob("*.csv")):
            mlflow.log_artifact(str(p), "evaluate")
        mlflow.log_artifact(str(paths.METRICS), "evaluate")
        shown = ", ".join(f"{k} {headline[k]:.3f}" for k in HEADLINE if k in headline)
        print(f"evaluate: {shown} (MLflow run {run.info.run_id})")


def main() -> None:
    cfg = load_params()
    if sys.argv[1:] == ["evaluators"]:
        run_evaluators(cfg)
    elif not sys.argv[1:]:
        run_evaluate(cfg)
    else:
        raise UserError("usage: python -m pipeline.evaluate [evaluators]")
