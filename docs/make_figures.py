"""The README's swap picture, from a run's outputs: target | swap | face-swap truth |
whole-head truth, for a few frames, cropped around the face and enlarged so the eyes and
mouth can be seen.

    python docs/make_figures.py [--clip a_to_b] [--frames 20,80,130] [--out docs/swap_closeup.jpg]

Run it after `make run` (it reads data/targets/ and outputs/final/).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from pipeline.io.video import read_frames

COLUMNS = (
    ("target", "data/targets/{c}/video.mp4"),
    ("swap", "outputs/final/{c}/{c}.mp4"),
    ("face-swap truth", "data/targets/{c}/face_truth.mp4"),
    ("whole-head truth", "data/targets/{c}/ground_truth.mp4"),
)


def face_box(landmarks: np.ndarray, shape: tuple[int, int], margin: float = 0.45) -> tuple:
    """A square (x0, y0, side) around the landmarks, grown by ``margin`` of their size."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    side = int((hi - lo).max() * (1 + 2 * margin))
    cx, cy = (lo + hi) / 2
    x0 = int(np.clip(cx - side / 2, 0, shape[1] - side))
    y0 = int(np.clip(cy - side / 2, 0, shape[0] - side))
    return x0, y0, side


def closeups(clip: str, frames: list[int], size: int = 224) -> np.ndarray:
    track = np.load(f"data/targets/{clip}/track.npz")
    wanted = set(frames)
    columns = []
    for _title, pattern in COLUMNS:
        tiles = []
        for i, frame in enumerate(read_frames(Path(pattern.format(c=clip)))):
            if i in wanted:
                x0, y0, side = face_box(track["landmarks"][i], frame.shape[:2])
                tile = cv2.resize(
                    frame[y0 : y0 + side, x0 : x0 + side],
                    (size, size),
                    interpolation=cv2.INTER_LANCZOS4,
                )
                tiles.append(tile)
        columns.append(tiles)
    return titled_columns([t for t, _ in COLUMNS], columns, size)


def titled_columns(titles: list[str], columns: list[list[np.ndarray]], size: int) -> np.ndarray:
    """Columns of ``size``-wide tiles under their titles, side by side with white gaps."""
    cols = []
    for title, tiles in zip(titles, columns):
        head = np.full((28, size, 3), 255, np.uint8)
        cv2.putText(head, title, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        cols.append(np.concatenate([head, *tiles], 0))
    gap = np.full((cols[0].shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([c for col in cols for c in (col, gap)][:-1], 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default="a_to_b")
    ap.add_argument("--frames", default="20,80,130")
    ap.add_argument("--out", type=Path, default=Path("docs/swap_closeup.jpg"))
    args = ap.parse_args()
    image = closeups(args.clip, [int(f) for f in args.frames.split(",")])
    cv2.imwrite(str(args.out), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
