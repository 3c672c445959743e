"""Real-footage collect speed on a 640x480 video with dlib's HOG detector.

Makes a 10 s, 25 fps 640x480 clip of a moving face (scikit-image's public-domain
astronaut photo, test use only), then times in one process:
  * identity collection (``collect_identity``): every frame decoded, ``sample_fps``
    frames per second detected, landmarked, aligned, filtered and embedded;
  * target tracking (``collect_target``): every frame decoded, re-encoded and given
    landmarks, with a full detection every ``redetect_every`` frames.
Prints one JSON object: source frames per second of each, and the HOG time per frame.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import footage  # noqa: E402
from pipeline.collect.folder import collect_identity, collect_target  # noqa: E402
from pipeline.config.compose import compose_conf  # noqa: E402
from pipeline.config.load import validate  # noqa: E402
from pipeline.faces.detect import FaceAnalyzer  # noqa: E402


class _Bar:
    def update(self, n: int = 1) -> None:
        pass


def main() -> None:
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
            }
        )
    )


if __name__ == "__main__":
    main()
