"""What refine's final encode keeps, per x264 preset and CRF, at one frame size.

Renders the swap bench's clip at ``--size`` (``bench/swap_speed.py``: the head as tall as
the frame, a face about 0.4 x the height), swaps it once with a trained model (``models/``
and ``segmenter/`` of a finished ``make run``), then refines it once per setting with one
fixed run tag, keeping the frames as they were marked, before the encode. Prints one
JSON object per setting:
  * refine_fps: refine's frames per second (every mark on);
  * final_mb: the final file's size;
  * face_ssim, face_psnr: the decoded final against the frames before the encode, inside
    the face hull (every 5th frame): what the encode alone loses of the face;
  * frame_psnr: the same over the whole frame;
  * mark_min_z, mark_min_z_crf28: the watermark's smallest |z| over its bits, read from
    the final and from a CRF 28 re-encode of it (a read needs about 3).
Settings are ``preset:crf`` (``--settings medium:20,veryfast:19``); they override
``refine.hd`` too, so the setting is the one used at every size. Config overrides go
after the options.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TAG = "205439d271ed"  # one run tag for every setting: the same mark pattern


def main() -> None:
    from imageio_ffmpeg import get_ffmpeg_exe
    from omegaconf import OmegaConf
    from swap_speed import make_clip

    from pipeline import paths
    from pipeline.config.compose import compose_conf
    from pipeline.config.load import validate
    from pipeline.evaluate.metrics import face_region, masked_psnr, masked_ssim
    from pipeline.faces.template import HEAD_COVERAGE
    from pipeline.generate.stage import (
        load_occlusion,
        load_swap_model,
        own_index,
        swap_index,
    )
    from pipeline.generate.swap import generate_target
    from pipeline.generate.swapper import Swapper
    from pipeline.generate.targets import Target
    from pipeline.io.video import read_frames
    from pipeline.provenance import watermark
    from pipeline.provenance.marks import FrameMarker
    from pipeline.refine.refine import refine_target

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--settings", default="medium:20,veryfast:19")
    ap.add_argument("--models", type=Path, default=ROOT / paths.MODELS)
    ap.add_argument("--segmenter", type=Path, default=ROOT / paths.SEGMENTER)
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    if not (args.models / "model.json").is_file():
        sys.exit(f"{args.models} holds no trained model; run 'make run' first or pass --models.")
    width, height = map(int, args.size.split("x"))
    cfg = validate(compose_conf(args.overrides, ROOT / "conf"))

    class Keeping(FrameMarker):
        """Marks as refine does, and keeps the full-size frames it marked."""

        def __init__(self) -> None:
            super().__init__(TAG, cfg.provenance)
            self.kept: list[np.ndarray] = []

        def __call__(self, frame, landmarks=None):
            out = super().__call__(frame, landmarks)
            if frame.shape[:2] == (height, width):
                self.kept.append(out)
            return out

    def margin(path: Path) -> float:
        reader = watermark.Detector()
        for frame in read_frames(path):
            reader.add(frame)
        return round(reader.reading().min_z, 2)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clip"
        make_clip(folder, width, height, 1)
        target = Target("clip", "video", folder, json.loads((folder / "meta.json").read_text()))
        model, meta = load_swap_model(cfg, args.models)
        occlusion = load_occlusion(cfg, cfg.model.input_size, args.segmenter)
        ids = meta["identities"]
        swapper = Swapper(
            model,
            swap_index(target, ids),
            cfg.generate.precision,
            own=own_index(target, ids),
            occlusion=occlusion,
        )
        gen = Path(tmp) / "generated"
        coverage = meta.get("coverage", HEAD_COVERAGE)  # as the model was trained
        marker = FrameMarker(TAG, cfg.provenance)
        generate_target(
            target, swapper, cfg.model.input_size, cfg.generate, gen, marker, coverage=coverage
        )
        with np.load(gen / "track.npz") as track:
            landmarks = track["landmarks"]
        for setting in args.settings.split(","):
            preset, crf = setting.split(":")
            refine = OmegaConf.merge(
                cfg.refine,
                {"preset": preset, "crf": int(crf), "hd": {"preset": preset, "crf": int(crf)}},
            )
            marker = Keeping()
            out = Path(tmp) / f"final_{preset}_{crf}"
            start = time.perf_counter()
            stats = refine_target(target, gen, refine, out, marker)
            seconds = time.perf_counter() - start
            final = out / "clip.mp4"
            ssim, psnr, frame_psnr = [], [], []
            for i, decoded in enumerate(read_frames(final)):
                if i % 5 or not np.isfinite(landmarks[i]).all():
                    continue
                face = face_region(landmarks[i], landmarks[i], (height, width))
                ssim.append(masked_ssim(marker.kept[i], decoded, face))
                psnr.append(masked_psnr(marker.kept[i], decoded, face))
                frame_psnr.append(cv2.PSNR(marker.kept[i], decoded))
            again = Path(tmp) / "crf28.mp4"
            cmd = [get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(final)]
            subprocess.run([*cmd, "-c:v", "libx264", "-crf", "28", "-an", str(again)], check=True)
            row = {
                "size": args.size,
                "preset": preset,
                "crf": int(crf),
                "refine_fps": round(stats["frames"] / seconds, 1),
                "final_mb": round(final.stat().st_size / 2**20, 3),
                "face_ssim": round(float(np.mean(ssim)), 4),
                "face_psnr": round(float(np.mean(psnr)), 2),
                "frame_psnr": round(float(np.mean(frame_psnr)), 2),
                "mark_min_z": margin(final),
                "mark_min_z_crf28": margin(again),
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
