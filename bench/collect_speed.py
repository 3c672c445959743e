"""Real-footage collect speed with dlib's HOG detector, at 640x480 and larger sizes.

Makes a 10 s, 25 fps clip of a moving face (scikit-image's public-domain astronaut
photo, test use only; at 720p and 1080p the same frames scaled up, so the face keeps its
share of the frame), then times in one process:
  * identity collection (``collect_identity``): every frame decoded, ``sample_fps``
    frames per second detected, landmarked, aligned, filtered and embedded;
  * target tracking (``collect_target``): every frame decoded, re-encoded and given
    landmarks, with a full detection every ``redetect_every`` frames.
  * at each of ``--sizes`` (default 640x480,1280x720,1920x1080), target tracking alone.
Prints one JSON object: source frames per second of each, and the HOG time per frame.
Target tracking at 1080p has a goal of 30 fps on 2 cores (issue 12).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import footage  # noqa: E402
from pipeline.collect.folder import collect_identity, collect_target  # noqa: E402
from pipeline.config.compose import compose_conf  # noqa: E402
from pipeline.config.load import validate  # noqa: E402
from pipeline.faces.detect import FaceAnalyzer  # noqa: E402
from pipeline.faces.follow import FaceTracker  # noqa: E402
from pipeline.io.video import VideoWriter, read_frames  # noqa: E402


class _Bar:
    def update(self, n: int = 1) -> None:
        pass


def _fill(frame, width: int, height: int):
    """``frame`` scaled to cover width x height without stretching, centre cut."""
    scale = max(width / frame.shape[1], height / frame.shape[0])
    big = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return big[y0 : y0 + height, x0 : x0 + width]


def tracking_at(fa, cfg, root: Path, width: int, height: int, frames: int) -> dict:
    """Target collect at one size, and what its time goes to: decoding, tracking (detect
    + landmarks, on frames already decoded) and the rest (mostly the H.264 re-encode)."""
    clip = root / f"clip_{width}x{height}.mp4"
    with VideoWriter(clip, (width, height), 25.0, 18) as out:
        for frame, _ in footage.moving_clip(footage.astronaut(), frames):
            out.write(_fill(frame, width, height))
    target = OmegaConf.create({"name": "t", "video": clip.name, "swap_to": "x", "reference": ""})
    t0 = time.perf_counter()
    collect_target(fa, target, cfg.data, root, root / f"target_{width}x{height}", _Bar())
    total = time.perf_counter() - t0
    t0 = time.perf_counter()
    decoded = list(read_frames(clip, 25.0))
    decode = time.perf_counter() - t0
    tracker = FaceTracker(fa, cfg.data.redetect_every)
    t0 = time.perf_counter()
    for frame in decoded:
        tracker(frame)
    track = time.perf_counter() - t0
    ms = 1000 / frames
    seen = int(np.isfinite(tracker.landmarks()[..., 0, 0]).any(0).sum()) if tracker.tracks else 0
    return {
        "target_tracking_fps": round(frames / total, 1),
        "frames_with_face": seen,
        "ms_per_frame": {
            "decode": round(decode * ms, 1),
            "track": round(track * ms, 1),
            "encode_and_rest": round((total - decode - track) * ms, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="640x480,1280x720,1920x1080")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    cfg = validate(compose_conf(["data=folder"], ROOT / "conf"))
    fa = FaceAnalyzer(cfg.detector)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        frames = 250
        footage.write_clip(root / "clip.mp4", footage.moving_clip(footage.astronaut(), frames))
        (root / "consent.txt").write_text("astronaut (benchmark)")
        ident = OmegaConf.create(
            {
                "name": "astronaut",
                "consent": "consent.txt",
                "videos": ["clip.mp4"],
                "images": [],
                "reference": "",
            }
        )
        t0 = time.perf_counter()
        counts, _ = collect_identity(fa, ident, cfg.data, root, root / "faces", _Bar())
        t1 = time.perf_counter()
        target = OmegaConf.create(
            {"name": "t", "video": "clip.mp4", "swap_to": "x", "reference": ""}
        )
        collect_target(fa, target, cfg.data, root, root / "target", _Bar())
        t2 = time.perf_counter()
        image = next(footage.moving_clip(footage.astronaut(), 1))[0]
        t3 = time.perf_counter()
        for _ in range(20):
            fa.detect(image)
        hog_ms = (time.perf_counter() - t3) / 20 * 1000
        by_size = {f"{w}x{h}": tracking_at(fa, cfg, root, w, h, frames) for w, h in sizes}
    print(
        json.dumps(
            {
                "size": "640x480",
                "frames": frames,
                "identity_collect_fps": round(frames / (t1 - t0), 1),
                "sampled_frames": counts["frames"],
                "faces_kept": counts["kept"],
                "target_tracking_fps": round(frames / (t2 - t1), 1),
                "redetect_every": cfg.data.redetect_every,
                "hog_ms_per_frame": round(hog_ms, 1),
                "target_tracking_by_size": by_size,
            }
        )
    )


if __name__ == "__main__":
    main()
