"""Generate and refine speed on synthetic clips at 640x480, 720p and 1080p, and peak
memory against clip length.

Per frame size, renders a 6 s clip (a square render as tall as the frame, centred and
padded by reflection, with a soundtrack: the head fills the height as in a talking-head
shot, a face of about 0.4 x the frame height), then in a fresh process per clip length
runs generate (default model, random weights: speed does not depend on training) and
refine (default config, every mark on) on it, and on a clip 4x longer. Prints one JSON
object per size: frames/s of each stage, end to end (all frames over the sum of both
stages' time), the final file's size, and each process's peak RSS with their ratio.
Options: ``--sizes 1280x720`` (comma-separated), config overrides (``refine.hd.preset=fast``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SIZES = "640x480,1280x720,1920x1080"


def make_clip(folder: Path, width: int, height: int, repeat: int, seconds: float = 6.0) -> None:
    """A target folder like collect's: video.mp4 (+ audio), track.npz, meta.json."""
    from pipeline.collect import synthetic
    from pipeline.config.compose import compose_conf
    from pipeline.config.load import validate
    from pipeline.io.audio import soundtrack, write_wav
    from pipeline.io.video import VideoWriter

    data = validate(compose_conf([], Path(__file__).resolve().parents[1] / "conf")).data
    people = synthetic.identities(data)
    perf = synthetic.target_performance(seconds, data.fps, 5)
    pad = (width - height) // 2
    frames, landmarks = [], []
    for actor, _ in synthetic.target_frames(people["synth_a"], [], perf, 5, height):
        frames.append(cv2.copyMakeBorder(actor.image, 0, 0, pad, pad, cv2.BORDER_REFLECT))
        landmarks.append(actor.landmarks + [pad, 0])
    frames, landmarks = frames * repeat, landmarks * repeat
    folder.mkdir(parents=True)
    wav = folder / "audio.wav"
    write_wav(wav, soundtrack(len(frames) / data.fps, 220.0, 5))
    with VideoWriter(folder / "video.mp4", (width, height), data.fps, 18, wav) as out:
        for f in frames:
            out.write(f)
    wav.unlink()
    np.savez_compressed(folder / "track.npz", landmarks=np.stack(landmarks).astype(np.float32))
    meta = {"clip": folder.name, "kind": "video", "identity": "synth_a", "swap_to": "synth_b"}
    meta |= {"fps": data.fps, "frames": len(frames)}
    (folder / "meta.json").write_text(json.dumps(meta))


def run_stages(folder: Path, overrides: list[str]) -> dict:
    """generate then refine on one clip, in this process; returns times and peak RSS."""
    import torch

    from pipeline.config.compose import compose_conf
    from pipeline.config.load import validate
    from pipeline.generate.swap import generate_target
    from pipeline.generate.swapper import Swapper
    from pipeline.generate.targets import Target
    from pipeline.provenance.marks import FrameMarker
    from pipeline.refine.refine import refine_target
    from pipeline.segment.model import Segmenter, segment
    from pipeline.train.models.swap import build_model

    cfg = validate(compose_conf(overrides, Path(__file__).resolve().parents[1] / "conf"))
    torch.manual_seed(0)
    model = build_model(cfg.model, 2)
    # The default's occlusion mask: an (untrained, equally fast) segmenter, or the own
    # decoder's (identity 0, the performer).
    occlusion = None
    if cfg.generate.occlusion_mask == "segmenter":
        net = Segmenter(cfg.segment.width, cfg.segment.levels).eval()
        net = net.to(memory_format=torch.channels_last)  # as generate loads it
        occlusion = lambda crops: segment(net, crops)  # noqa: E731
    meta = json.loads((folder / "meta.json").read_text())
    target = Target(folder.name, "video", folder, meta)
    marker = FrameMarker("0123456789ab", cfg.provenance)
    work = folder.parent / f"{folder.name}-out"
    t0 = time.perf_counter()
    g = generate_target(
        target,
        Swapper(model, 1, cfg.generate.precision, own=0, occlusion=occlusion),
        cfg.model.input_size,
        cfg.generate,
        work / "generated",
        marker,
    )
    t1 = time.perf_counter()
    refine_target(target, work / "generated", cfg.refine, work / "final", marker)
    t2 = time.perf_counter()
    return {
        "frames": g["frames"],
        "generate_seconds": t1 - t0,
        "refine_seconds": t2 - t1,
        "final_mb": (work / "final" / f"{folder.name}.mp4").stat().st_size / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(width: int, height: int, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, repeat in (("clip", 1), ("clip_4x", 4)):
            make_clip(Path(tmp) / name, width, height, repeat)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(Path(tmp) / name), *overrides],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
    one = runs["clip"]
    total = one["generate_seconds"] + one["refine_seconds"]
    return {
        "size": f"{width}x{height}",
        "frames": one["frames"],
        "generate_fps": round(one["frames"] / one["generate_seconds"], 1),
        "refine_fps": round(one["frames"] / one["refine_seconds"], 1),
        "end_to_end_fps": round(one["frames"] / total, 1),
        "final_mb": round(one["final_mb"], 3),
        "peak_rss_mb": round(one["peak_rss_mb"], 1),
        "peak_rss_mb_4x": round(runs["clip_4x"]["peak_rss_mb"], 1),
        "rss_ratio_4x": round(runs["clip_4x"]["peak_rss_mb"] / one["peak_rss_mb"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=SIZES)
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. refine.hd.preset=fast")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_stages(args.child, args.overrides)))
        return
    for size in args.sizes.split(","):
        width, height = map(int, size.split("x"))
        print(json.dumps(measure(width, height, args.overrides) | {"overrides": args.overrides}))


if __name__ == "__main__":
    main()
