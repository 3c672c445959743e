"""The README's occlusion picture, from a run's outputs: the occluded target, the swap
blended through each mask source (the landmark hull paints over whatever is in front;
the predicted and occlusion masks leave it in front), and the face-swap truth, for a few
frames, cropped around the face and enlarged.

    python docs/make_occlusion_figure.py [--clip a_to_b_occluded] [--frames 10,40,70]
        [--out docs/occlusion.jpg]

Run it after `make run`: it reads data/targets/, outputs/generated/ and params.yaml, and
blends with refine's own code (pipeline/refine/refine.py: Refiner) without the marks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from make_figures import face_box, titled_columns  # docs/ is on the path when run as a script
from omegaconf import OmegaConf

from pipeline.config.load import load_params
from pipeline.io.video import read_frames
from pipeline.refine.refine import Refiner

SOURCES = (("hull", "mask: landmark hull"), ("predicted", "mask: predicted"))


def tile(frame: np.ndarray, box: tuple, size: int) -> np.ndarray:
    x0, y0, side = box
    crop = frame[y0 : y0 + side, x0 : x0 + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_LANCZOS4)


def figure(clip: str, frames: list[int], size: int = 200) -> np.ndarray:
    cfg = load_params()
    gen = Path("outputs/generated") / clip
    faces = np.load(gen / "faces.npy", mmap_mode="r")
    masks = np.load(gen / "masks.npy", mmap_mode="r")
    own = (
        np.load(gen / "own_masks.npy", mmap_mode="r") if (gen / "own_masks.npy").is_file() else None
    )
    used = np.load(gen / "track.npz")
    exact = np.load(f"data/targets/{clip}/track.npz")["landmarks"]
    sources = SOURCES + ((("occlusion", "mask: occlusion"),) if own is not None else ())
    refiners = {
        name: Refiner(OmegaConf.merge(cfg.refine, {"mask": {"source": name}}), faces.shape[1])
        for name, _ in sources
    }
    titles = ["target"] + [title for _, title in sources] + ["face-swap truth"]
    columns: list[list[np.ndarray]] = [[] for _ in titles]
    truth = read_frames(Path(f"data/targets/{clip}/face_truth.mp4"))
    clip_frames = read_frames(Path(f"data/targets/{clip}/video.mp4"))
    for i, (frame, good) in enumerate(zip(clip_frames, truth)):
        # Every frame goes through every refiner: colour smoothing follows the clip.
        args = (frame, faces[i], masks[i], used["matrices"][i], used["landmarks"][i])
        mine = None if own is None else own[i]
        row = [r(*args, mine) if used["has_face"][i] else frame for r in refiners.values()]
        if i in frames:
            box = face_box(exact[i], frame.shape[:2], 0.35)
            for col, image in zip(columns, [frame, *row, good]):
                col.append(tile(image, box, size))
    return titled_columns(titles, columns, size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default="a_to_b_occluded")
    ap.add_argument("--frames", default="10,40,70")
    ap.add_argument("--out", type=Path, default=Path("docs/occlusion.jpg"))
    args = ap.parse_args()
    image = figure(args.clip, [int(f) for f in args.frames.split(",")])
    cv2.imwrite(str(args.out), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
