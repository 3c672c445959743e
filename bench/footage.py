"""Test footage from the two public-domain photos that ship inside registry packages:
scikit-image's astronaut (Eileen Collins) and matplotlib's grace_hopper.jpg. Used for the
mechanics of real-footage collection only; never in the README or demos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.io.audio import soundtrack, write_wav
from pipeline.io.video import VideoWriter

W, H = 640, 480


def astronaut() -> np.ndarray:
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[10:300, 90:350]
    return cv2.resize(face, None, fx=1.3, fy=1.3, interpolation=cv2.INTER_CUBIC)


def grace_hopper() -> np.ndarray:
    from matplotlib import cbook

    image = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return cv2.resize(image[60:460, 80:460], None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)


def background(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.zeros((H, W, 3), np.float32) + rng.uniform(60, 160, 3)
    ramp = np.linspace(-25, 25, W, dtype=np.float32)[None, :, None]
    return np.clip(base + ramp, 0, 255).astype(np.uint8)


def place(
    canvas: np.ndarray,
    photo: np.ndarray,
    cx: float,
    cy: float,
    angle: float,
    scale: float,
    gain: float = 1.0,
) -> np.ndarray:
    """``photo`` rotated/scaled about its centre and pasted with centre (cx, cy); returns
    the 2x3 matrix from photo to canvas pixels."""
    h, w = photo.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += [cx - w / 2, cy - h / 2]
    warped = cv2.warpAffine(np.clip(photo * gain, 0, 255).astype(np.uint8), m, (W, H))
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), m, (W, H)) > 0
    canvas[mask] = warped[mask]
    return m


def moving_clip(photo: np.ndarray, frames: int, empty: range = range(0)):
    """Frames of ``photo`` moving, rotating, scaling and changing brightness, with the
    frames in ``empty`` showing the background only; yields (frame, matrix or None)."""
    for t in range(frames):
        canvas = background()
        if t in empty:
            yield canvas, None
            continue
        u = t / max(frames - 1, 1)
        m = place(
            canvas,
            photo,
            cx=W * (0.35 + 0.3 * u),
            cy=H * (0.5 + 0.05 * np.sin(6 * u)),
            angle=10 * np.sin(4 * u),
            scale=0.9 + 0.2 * u,
            gain=0.85 + 0.3 * abs(np.sin(3 * u)),
        )
        yield canvas, m


def write_clip(
    path: Path, frames, fps: float = 25.0, sound: tuple[np.ndarray, int] | None = None
) -> list:
    """Write (frame, extra) pairs as H.264 with a soundtrack (``sound``: int16 samples
    and their rate; by default a melody); returns the extras."""
    frames = list(frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    wav = path.with_suffix(".wav")
    if sound is None:
        sound = (soundtrack(len(frames) / fps, 220.0, 1), 48000)
    write_wav(wav, *sound)
    with VideoWriter(path, (W, H), fps, 18, wav) as out:
        for frame, _ in frames:
            out.write(frame)
    wav.unlink()
    return [extra for _, extra in frames]


def side_by_side() -> np.ndarray:
    canvas = background(1)
    place(canvas, astronaut(), W * 0.28, H * 0.5, 0, 0.85)
    place(canvas, grace_hopper(), W * 0.74, H * 0.5, 0, 1.0)
    return canvas


def crossing_clip(frames: int):
    """Two people crossing: the astronaut walks left to right behind Grace Hopper, who
    walks right to left, so for a few frames one face hides the other; yields (frame,
    (astronaut's matrix, Grace Hopper's matrix))."""
    astro, grace = astronaut(), grace_hopper()
    for t in range(frames):
        u = t / max(frames - 1, 1)
        canvas = background(2)
        a = place(canvas, astro, W * (0.2 + 0.6 * u), H * 0.5, 5 * np.sin(3 * u), 0.8)
        g = place(canvas, grace, W * (0.8 - 0.6 * u), H * 0.52, -4 * np.sin(2 * u), 0.9)
        yield canvas, (a, g)


def with_bystander(clip):
    """``clip``'s frames with a smaller Grace Hopper standing still in the lower right
    (a second face that a swap must leave alone); yields what ``clip`` yields."""
    small = cv2.resize(grace_hopper(), None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    for frame, extra in clip:
        place(frame, small, W * 0.88, H * 0.78, 0, 1.0)
        yield frame, extra
