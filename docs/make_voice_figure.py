"""The README's voice picture, from a run's outputs: the spectral envelope of the target's
speech (the performer's voice), of the final video's sound track (converted to the new
identity's voice, after the AAC encode) and of the ground truth (the same reading in the
new identity's voice), one above the other on one time axis, with their F0 drawn in.

    python docs/make_voice_figure.py [--clip a_to_b] [--out docs/voice.jpg]

Run it after `make run`: it reads data/targets/ and outputs/final/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from pipeline.io.audio import decode_audio, read_wav
from pipeline.voice import world
from pipeline.voice.collect import spectrogram_image

HEIGHT, PX_PER_FRAME = 150, 2


def panel(samples: np.ndarray, title: str) -> np.ndarray:
    f = world.analyse(samples)
    img = spectrogram_image(f.envelope, HEIGHT)
    img = cv2.resize(img, (len(f) * PX_PER_FRAME, HEIGHT), interpolation=cv2.INTER_NEAREST)
    # F0 as a white trace on a 0-400 Hz scale of the panel's height.
    for i in np.flatnonzero(f.f0 > 0):
        y = int(HEIGHT - 1 - min(f.f0[i], 400) / 400 * (HEIGHT - 1))
        cv2.rectangle(img, (i * PX_PER_FRAME, y - 1), (i * PX_PER_FRAME + 1, y), (255, 255, 255), -1)
    bar = np.full((24, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, title, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default="a_to_b")
    ap.add_argument("--out", type=Path, default=Path("docs/voice.jpg"))
    args = ap.parse_args()
    target = Path("data/targets") / args.clip
    truth, rate = read_wav(target / "voice_truth.wav")
    rows = [
        (decode_audio(target / "video.mp4", world.RATE), "target: the performer's voice"),
        (
            decode_audio(Path("outputs/final") / args.clip / f"{args.clip}.mp4", world.RATE),
            "swapped video's sound track: converted to the new identity's voice",
        ),
        (world.to_rate(truth, rate), "ground truth: the same reading in the new identity's voice"),
    ]
    n = min(len(x) for x, _ in rows)
    panels = [panel(x[:n].astype(np.float32), title) for x, title in rows]
    cv2.imwrite(str(args.out), np.concatenate(panels))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
