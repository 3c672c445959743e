"""The collect stage: read params.yaml, collect faces and targets, log to MLflow."""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from pipeline import paths
from pipeline.collect import synthetic
from pipeline.collect.consent import check_consent
from pipeline.collect.folder import collect_folder
from pipeline.collect.writer import FaceFolderWriter, write_meta, write_track
from pipeline.config.load import load_params
from pipeline.io.atomic import atomic_outputs
from pipeline.io.audio import to_int16, write_wav
from pipeline.io.video import VideoWriter
from pipeline.paths import project_root
from pipeline.tracking import stage_run
from pipeline.viz.grid import image_grid
from pipeline.voice import world
from pipeline.voice.soundtrack import mouth_track, target_speech, to_48k


def collect_synthetic(data: DictConfig, faces_dir: Path, targets_dir: Path) -> dict:
    """Write every identity's faces and every target clip; return counts and timings."""
    synthetic.check_config(data)
    people = synthetic.identities(data)
    total = (
        sum(i.frames for i in data.identities)
        + sum((1 + len(synthetic.TRUTHS)) * int(round(t.seconds * data.fps)) for t in data.targets)
        + sum(st.count for st in data.stills)
    )
    stats: dict = {"faces": {}, "targets": {}}
    previews: dict[str, list[np.ndarray]] = {}
    start = time.perf_counter()
    with tqdm(total=total, desc="collect", unit="frame") as bar:
        for conf in data.identities:
            writer = FaceFolderWriter(
                faces_dir / conf.name,
                conf.name,
                data.crop_size,
                {
                    "kind": "synthetic",
                    "renderer_version": synthetic.RENDERER_VERSION,
                    "seed": conf.seed,
                    "parameters": people[conf.name].to_dict(),
                    "consent": "not required: a procedurally generated person",
                },
                data.coverage,
            )
            previews[conf.name] = []
            for s in synthetic.training_faces(people[conf.name], conf.seed, conf.frames, data):
                writer.add(s, {"kind": "synthetic", "scene": s.scene, "frame": s.index})
                if len(previews[conf.name]) < data.preview_faces:
                    previews[conf.name].append(s.crop)
                bar.update()
            writer.close()
            stats["faces"][conf.name] = conf.frames
        faces_seconds = time.perf_counter() - start
        for t in data.targets:
            stats["targets"][t.name] = _write_target(data, t, people, targets_dir / t.name, bar)
        for st in data.stills:
            stats["targets"][st.name] = _write_stills(data, st, people, targets_dir / st.name, bar)
    stats["seconds"] = time.perf_counter() - start
    stats["faces_per_second"] = sum(stats["faces"].values()) / max(faces_seconds, 1e-9)
    stats["previews"] = previews
    return stats


def _write_target(data: DictConfig, t: DictConfig, people: dict, folder: Path, bar) -> int:
    folder.mkdir(parents=True)
    perf = synthetic.target_performance(t.seconds, data.fps, t.seed)
    n = len(perf["yaw"])
    # The performer reads aloud, and the mouth follows the phonemes (lip sync); the
    # ground truths carry the same reading in the new identity's voice.
    voices = {i.name: i.voice for i in data.identities}
    speech = target_speech(voices[t.identity], voices[t.swap_to], n / data.fps, t.seed)
    perf["mouth_open"] = mouth_track(speech.phonemes, n, data.fps)
    write_wav(folder / "voice_truth.wav", to_int16(speech.truth), world.RATE)
    size = (data.frame_size, data.frame_size)
    actor, truth = [], []
    truths = synthetic.truth_identities(people[t.identity], people[t.swap_to])
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        wav, truth_wav = Path(tmp) / "actor.wav", Path(tmp) / "truth.wav"
        write_wav(wav, to_int16(to_48k(speech.actor)))
        write_wav(truth_wav, to_int16(to_48k(speech.truth)))
        v_out = stack.enter_context(
            VideoWriter(folder / "video.mp4", size, data.fps, data.video_crf, wav)
        )
        truth_out = [
            stack.enter_context(
                VideoWriter(folder / f"{name}.mp4", size, data.fps, data.video_crf, truth_wav)
            )
            for name in synthetic.TRUTHS
        ]
        frames = synthetic.target_frames(
            people[t.identity],
            [truths[k] for k in synthetic.TRUTHS],
            perf,
            t.seed,
            data.frame_size,
            list(t.occluders),
        )
        for a, renders in frames:
            v_out.write(a.image)
            for out, r in zip(truth_out, renders):
                out.write(r.image)
            actor.append(a)
            truth.append(dict(zip(synthetic.TRUTHS, renders)))
            bar.update(1 + len(renders))
    write_track(folder / "track.npz", actor, truth, perf)
    if t.occluders:  # what covers the face: (frames, kinds, H, W), bit-packed along rows
        hidden = np.stack([a.hidden > 127 for a in actor])
        kinds = np.array(list(t.occluders))
        np.savez_compressed(
            folder / "occluders.npz", hidden=np.packbits(hidden, axis=-1), kinds=kinds
        )
    write_meta(
        folder / "meta.json",
        {
            "clip": t.name,
            "kind": "video",
            "identity": t.identity,
            "swap_to": t.swap_to,
            "fps": data.fps,
            "frames": n,
            "size": data.frame_size,
            "seed": t.seed,
            "occluders": list(t.occluders),
            "renderer_version": synthetic.RENDERER_VERSION,
            "speech": {
                "text": speech.text,
                "voice": voices[t.identity],
                "truth_voice": voices[t.swap_to],
            },
        },
    )
    return n


def _write_stills(data: DictConfig, st: DictConfig, people: dict, folder: Path, bar) -> int:
    """An image-folder target: images/, truth/ and faces.json (landmarks or null)."""
    (folder / "images").mkdir(parents=True)
    (folder / "truth").mkdir()
    faces = {}
    frames = synthetic.still_frames(
        people[st.identity], people[st.swap_to], st.count, st.seed, data.frame_size
    )
    for i, (actor, truth, background) in enumerate(frames):
        name = f"{i:05d}.png"
        cv2.imwrite(str(folder / "images" / name), actor.image if actor else background)
        cv2.imwrite(str(folder / "truth" / name), truth.image if truth else background)
        faces[name] = np.round(actor.landmarks, 3).tolist() if actor else None
        bar.update()
    write_meta(folder / "faces.json", faces)
    write_meta(
        folder / "meta.json",
        {
            "clip": st.name,
            "kind": "images",
            "identity": st.identity,
            "swap_to": st.swap_to,
            "frames": st.count,
            "size": data.frame_size,
            "seed": st.seed,
            "renderer_version": synthetic.RENDERER_VERSION,
        },
    )
    return st.count


def preview_sheet(previews: dict[str, list[np.ndarray]]) -> np.ndarray:
    """One row block per identity of sample crops, labelled with the identity."""
    cols = max(8, min(16, max(len(v) for v in previews.values())))
    images, labels = [], []
    for name, crops in previews.items():
        if not crops:
            continue
        row = list(crops) + [np.full_like(crops[0], 255)] * (-len(crops) % cols)
        labels += [name] + [""] * (len(row) // cols - 1)
        images += row
    return image_grid(images, cols, labels=labels)


def main() -> None:
    cfg = load_params()
    data = cfg.data
    root = project_root()
    if data.source == "folder":
        for ident in data.identities:  # refuse before a run is opened
            check_consent(root, ident)
    else:
        synthetic.check_config(data)
    with stage_run(cfg, "collect", {"data": OmegaConf.to_container(data)}) as run:
        import mlflow

        start = time.perf_counter()
        with atomic_outputs(paths.FACES, paths.TARGETS) as (faces_tmp, targets_tmp):
            faces_tmp.mkdir()
            targets_tmp.mkdir()
            if data.source == "folder":
                stats = collect_folder(data, cfg.detector, root, faces_tmp, targets_tmp)
                stats["seconds"] = time.perf_counter() - start
            else:
                stats = collect_synthetic(data, faces_tmp, targets_tmp)
        metrics = {f"faces.{k}": v for k, v in stats["faces"].items()}
        metrics |= {f"target_frames.{k}": v for k, v in stats["targets"].items()}
        metrics["seconds"] = stats["seconds"]
        if "faces_per_second" in stats:
            metrics["faces_per_second"] = stats["faces_per_second"]
        for name, counts in stats.get("rejected", {}).items():
            metrics |= {f"counts.{name}.{k}": v for k, v in counts.items()}
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            sheet = Path(tmp) / "faces_grid.png"
            cv2.imwrite(str(sheet), preview_sheet(stats["previews"]))
            mlflow.log_artifact(str(sheet), "collect")
        for name in stats["targets"]:
            clip = paths.TARGETS / name / "video.mp4"
            if clip.is_file():  # stills have no clip
                mlflow.log_artifact(str(clip), f"collect/{name}")
        rejected = "".join(
            f"; {name}: " + ", ".join(f"{k} {v}" for k, v in c.items() if v and k != "kept")
            for name, c in stats.get("rejected", {}).items()
        )
        print(
            f"collect: {sum(stats['faces'].values())} faces, "
            f"{sum(stats['targets'].values())} target frames in {stats['seconds']:.1f} s"
            f"{rejected} (MLflow run {run.info.run_id})"
        )
