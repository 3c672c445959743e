"""Video files through the ffmpeg binary that imageio-ffmpeg ships (H.264, AAC audio)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from pipeline.errors import UserError


class VideoWriter:
    """Stream BGR frames into an H.264 MP4, muxing an audio file's track if given.

    Use as a context manager; frames are (H, W, 3) uint8 BGR of one size. With
    ``audio_codec="copy"`` the source's audio is kept bit-identical. ``fit_audio`` fits an
    encoded (AAC) track to the frames: cut where they end, padded with silence if it ends
    first, so the clip's sound does not outlast its picture.
    """

    def __init__(
        self,
        path: str | Path,
        size: tuple[int, int],
        fps: float,
        crf: int = 18,
        audio_path: str | Path | None = None,
        audio_codec: str = "aac",
        preset: str = "medium",
        fit_audio: bool = False,
    ):
        self.path = Path(path)
        self._gen = imageio_ffmpeg.write_frames(
            str(self.path),
            size,
            pix_fmt_in="bgr24",  # OpenCV's order: no per-frame channel swap in Python
            fps=fps,
            codec="libx264",
            quality=None,
            output_params=["-crf", str(crf), "-preset", preset]
            + (["-b:a", "128k"] if audio_path and audio_codec == "aac" else [])
            + (["-af", "apad", "-shortest"] if audio_path and fit_audio else []),
            audio_path=str(audio_path) if audio_path else None,
            audio_codec=audio_codec if audio_path else None,
            macro_block_size=1,
            ffmpeg_log_level="error",
        )
        self._gen.send(None)
        self.frames = 0

    def write(self, frame_bgr: np.ndarray) -> None:
        self._gen.send(np.ascontiguousarray(frame_bgr))
        self.frames += 1

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_frames(path: str | Path, fps: float | None = None) -> Iterator[np.ndarray]:
    """Yield (H, W, 3) uint8 BGR frames; a file ffmpeg cannot decode is a UserError.

    With ``fps`` frame k is the one on screen nearest time k / fps (ffmpeg repeats or drops
    frames): a variable-frame-rate phone clip becomes the constant-rate clip that a
    writer at ``fps`` plays in sync with its sound. Without it ffmpeg resamples to the
    stream's base rate (tbr), which for such a clip is not its average rate.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"video {path} does not exist; check the path in the config.")
    rate = ["-vf", f"fps={fps:.6g}"] if fps else None
    try:
        gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="bgr24", output_params=rate)
        meta = next(gen)
    except (RuntimeError, OSError, StopIteration) as err:
        raise UserError(
            f"video {path} cannot be decoded ({_first_line(err)}); "
            "re-encode it or remove it from the config."
        ) from err
    w, h = meta["size"]
    for buf in gen:
        yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)


def probe(path: str | Path) -> dict:
    """Streams of a media file as ffmpeg reports them (no ffprobe ships with the wheel)."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    out = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    text = out.stderr
    streams = re.findall(r"Stream #\d+:\d+.*?: (Video|Audio): (\w+)", text)
    dur = re.search(r"Duration: (\d+):(\d+):([\d.]+)", text)
    seconds = (int(dur[1]) * 3600 + int(dur[2]) * 60 + float(dur[3])) if dur else None
    fps = re.search(r"Video: .*?([\d.]+) fps", text)
    size = re.search(r"Video: .*?, (\d{2,5})x(\d{2,5})", text)
    rate = re.search(r"Audio: .*?, (\d+) Hz", text)
    return {
        "streams": [{"type": t.lower(), "codec": c} for t, c in streams],
        "seconds": seconds,
        "fps": float(fps[1]) if fps else None,
        "size": (int(size[1]), int(size[2])) if size else None,
        "audio_rate": int(rate[1]) if rate else None,  # the first sound track's
    }


def has_audio(path: str | Path) -> bool:
    return any(s["type"] == "audio" for s in probe(path)["streams"])


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
