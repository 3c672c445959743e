"""The voice stages (``python -m pipeline.voice <stage>``): voices, voice_train,
voice_convert and voice_evaluators. Each reads params.yaml, does its work through the
functions of this package, writes its outputs whole (temporary path, then rename) and
logs to its MLflow run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from pipeline import paths
from pipeline.config.load import load_params
from pipeline.config.rules import choice, enforce
from pipeline.errors import UserError
from pipeline.io.atomic import atomic_outputs
from pipeline.tracking import execution_run_id, stage_run, tracking_uri

CHECKPOINTS = paths.CHECKPOINTS / "voice"


def check_config(cfg: DictConfig) -> None:
    enforce([choice(cfg.voice.kind, ("convert", "none"), "voice.kind")])


def active(cfg: DictConfig) -> str | None:
    """Why the voice branch does nothing this run, or None when it works."""
    if cfg.voice.kind == "none":
        return "voice.kind is none: the swapped video keeps the target's own voice"
    return None


def _params(cfg: DictConfig) -> dict:
    return {"voice": OmegaConf.to_container(cfg.voice)}


def _skipped(out: Path, why: str) -> None:
    """An output folder that says why it is empty (DVC needs the output to exist)."""
    with atomic_outputs(out) as (tmp,):
        tmp.mkdir()
        (tmp / "skipped.json").write_text(json.dumps({"skipped": why}) + "\n")
    print(f"{out}: skipped ({why})")


def main_voices() -> None:
    from tqdm import tqdm

    from pipeline.voice.collect import collect_voices

    cfg = load_params()
    check_config(cfg)
    with stage_run(cfg, "voices", _params(cfg)) as run:
        import mlflow

        why = active(cfg)
        if why:
            _skipped(paths.VOICES, why)
            return
        with tqdm(total=len(cfg.data.identities), desc="voices", unit="speaker") as bar:
            summary = collect_voices(cfg.data, cfg.voice, paths.VOICES, bar)
        counts = ("seconds_silence_trimmed", "seconds_rejected", "runs_too_short", "runs_too_quiet")
        for name, info in summary.items():
            mlflow.log_metric(f"seconds.{name}", info["seconds"])
            for k in counts:  # real recordings: what was trimmed and rejected
                if k in info:
                    mlflow.log_metric(f"{k}.{name}", info[k])
            for f in ("spectrogram.png", "sample.wav", "speaker.json"):
                mlflow.log_artifact(str(paths.VOICES / name / f), f"voices/{name}")
        said = ", ".join(f"{n} {i['seconds']:.0f} s" for n, i in summary.items())
        print(f"voices: {said} -> {paths.VOICES}/ (MLflow run {run.info.run_id})")


def main_train() -> None:
    import mlflow
    from pytorch_lightning.loggers import MLFlowLogger

    from pipeline.voice.train import train_voice, write_model

    cfg = load_params()
    check_config(cfg)
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    with stage_run(cfg, "voice_train", _params(cfg)) as run:
        why = active(cfg)
        if why:
            _skipped(paths.VOICE_MODEL, why)
            report = {"skipped": why}
        else:
            logger = MLFlowLogger(
                experiment_name=cfg.tracking.experiment,
                run_id=run.info.run_id,
                tracking_uri=tracking_uri(cfg.tracking),
            )
            names = [i.name for i in cfg.data.identities]
            result = train_voice(
                cfg.voice, cfg.seed, paths.VOICES, names, CHECKPOINTS, logger, run.info.run_id
            )
            write_model(result, cfg.voice, paths.VOICE_MODEL)
            report = result["report"]
            client = mlflow.MlflowClient()
            client.log_artifact(
                run.info.run_id, str(paths.VOICE_MODEL / "preview.png"), "voice_train"
            )
            for k in ("train_loss", "frames_per_second"):
                if report[k] is not None:  # a run resumed at its last step has no loss
                    client.log_metric(run.info.run_id, f"report/{k}", float(report[k]))
            print(
                f"voice_train: {report['steps']} steps, {report['frames_per_second']} frames/s, "
                f"loss {report['train_loss']} (MLflow run {run.info.run_id})"
            )
        with atomic_outputs(paths.VOICE_TRAIN_REPORT) as (tmp,):
            tmp.write_text(json.dumps(report, indent=1) + "\n")


def main_convert() -> None:
    from pipeline.generate.targets import open_targets
    from pipeline.provenance.seal import seal_outputs
    from pipeline.provenance.watermark import run_tag
    from pipeline.voice.convert import convert_audio
    from pipeline.voice.inference import Converter
    from pipeline.voice.watermarking import mark_wav

    cfg = load_params()
    check_config(cfg)
    with stage_run(cfg, "voice_convert", _params(cfg)) as run:
        import mlflow

        why = active(cfg)
        if why:
            _skipped(paths.VOICE_OUT, why)
            return
        converter = Converter.from_file(paths.VOICE_MODEL)
        known = converter.speakers
        tag = run_tag(execution_run_id(run))
        stats = {}
        with atomic_outputs(paths.VOICE_OUT) as (tmp,):
            tmp.mkdir()
            for t in open_targets(paths.TARGETS):
                if not t.audio:
                    continue
                if t.swap_to not in known:
                    raise UserError(
                        f"target '{t.name}' swaps to '{t.swap_to}', whose voice the voice "
                        f"model does not know (it knows {known}); add them to "
                        "data.identities."
                    )
                src = known.index(t.performer) if t.performer in known else None
                dst = known.index(t.swap_to)
                out = tmp / f"{t.name}.wav"
                stats[t.name] = convert_audio(
                    converter, t.media, out, src, dst, cfg.voice.chunk_seconds
                ) | {"from": t.performer, "to": t.swap_to}
                stats[t.name] |= mark_wav(out, tag)
            (tmp / "convert.json").write_text(json.dumps(stats, indent=1) + "\n")
            model = paths.VOICE_MODEL / "model.safetensors"
            seal_outputs(cfg, execution_run_id(run), [tmp], "voice_convert", model)
        for name, s in stats.items():
            mlflow.log_metric(f"real_time_factor.{name}", s["real_time_factor"])
            mlflow.log_artifact(str(paths.VOICE_OUT / f"{name}.wav"), "voice_convert")
        said = ", ".join(
            f"{n} {s['seconds']} s at {s['real_time_factor']}x real time" for n, s in stats.items()
        )
        print(f"voice_convert: {said} -> {paths.VOICE_OUT}/ (MLflow run {run.info.run_id})")


def main_evaluators() -> None:
    from pipeline.voice.evaluator import save_evaluator, train_evaluator

    cfg = load_params()
    check_config(cfg)
    with stage_run(cfg, "voice_evaluators", _params(cfg)) as run:
        import mlflow

        why = active(cfg)
        if not why and cfg.data.source != "synthetic":
            # A classifier of synthetic voices says nothing of real ones.
            why = "real recordings are scored by Resemblyzer's speaker encoder in evaluate"
        if why:
            _skipped(paths.VOICE_EVALUATOR, why)
            report = {"skipped": why}
        else:
            net, report = train_evaluator(cfg.data, cfg.voice, cfg.seed)
            with atomic_outputs(paths.VOICE_EVALUATOR) as (tmp,):
                tmp.mkdir()
                save_evaluator(net, report, tmp)
            mlflow.log_metric("held_out_top1", report["held_out_top1"])
            print(
                f"voice_evaluators: {len(report['speakers'])} speakers, held-out top-1 "
                f"{report['held_out_top1']} (MLflow run {run.info.run_id})"
            )
        with atomic_outputs(paths.VOICE_EVALUATOR_REPORT) as (tmp,):
            tmp.write_text(json.dumps(report, indent=1) + "\n")


STAGES = {
    "voices": main_voices,
    "voice_train": main_train,
    "voice_convert": main_convert,
    "voice_evaluators": main_evaluators,
}
