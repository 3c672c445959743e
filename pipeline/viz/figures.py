"""Figures for the README: ``python -m pipeline.viz.figures`` rewrites them in docs/."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.synth.background import render_background
from pipeline.synth.identity import sample_identity
from pipeline.synth.performance import FIELDS
from pipeline.synth.render import render_frame
from pipeline.viz.grid import image_grid

_NEUTRAL = {k: (lo + hi) / 2 for k, (lo, hi) in FIELDS.items()} | {
    "mouth_open": 0.0,
    "smile": 0.0,
    "blink": 0.0,
    "gaze_x": 0.0,
    "gaze_y": 0.0,
    "light_azimuth": -25.0,
    "light_elevation": 25.0,
    "light_warmth": 0.0,
    "light_intensity": 1.0,
    "scale": 1.0,
    "shift_x": 0.0,
    "shift_y": 0.0,
}
POSES = [
    {},
    {"yaw": -30.0, "smile": 0.8},
    {"yaw": 28.0, "pitch": 12.0, "mouth_open": 0.7},
    {"pitch": -15.0, "roll": 12.0, "gaze_x": 0.8, "light_azimuth": 50.0},
    {"yaw": 15.0, "blink": 1.0, "light_warmth": 1.0, "light_azimuth": -60.0},
]


def identities_figure(seeds=(11, 8, 3, 23, 14), size: int = 160) -> np.ndarray:
    """Rows: identities; columns: poses, expressions and light; last column: landmarks."""
    tiles = []
    for row, seed in enumerate(seeds):
        idt = sample_identity(f"id{seed}", seed)
        bg = render_background(100 + row, size)
        for pose in POSES:
            tiles.append(render_frame(idt, _NEUTRAL | pose, bg).image)
        frame = render_frame(idt, _NEUTRAL | POSES[2], bg)
        marked = frame.image.copy()
        for (x, y), vis in zip(frame.landmarks, frame.visible):
            colour = (60, 255, 60) if vis else (60, 60, 255)
            cv2.circle(marked, (int(round(x)), int(round(y))), 2, colour, -1, cv2.LINE_AA)
        tiles.append(marked)
    return image_grid(tiles, len(POSES) + 1)


def main() -> None:
    out = Path("docs")
    out.mkdir(exist_ok=True)
    path = out / "synthetic_identities.jpg"
    cv2.imwrite(str(path), identities_figure(), [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
