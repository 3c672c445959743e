"""Where a target's output frames go: one H.264 file per stream for a clip (carrying the
clip's sound), one image per frame and stream for a folder of stills. Generate's raw
composite and refine's final and side-by-side outputs are all written through it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from pipeline.io.video import VideoWriter


class Source(Protocol):
    """What the sink needs of a target (pipeline/generate/targets.Target)."""

    name: str
    kind: str  # "video" | "images"

    def video_writer(
        self, path: Path, frame: np.ndarray, crf: int, preset: str, audio: Path | None = None
    ) -> VideoWriter: ...


@dataclass(frozen=True)
class Encoding:
    """x264 settings of a clip's streams: ``crf`` and ``preset``, except for frames of at
    least ``hd_pixels`` pixels (either orientation), which get ``hd_crf`` and ``hd_preset``.

    On large frames the encoder is the final encode's bound, and a faster preset at a
    CRF one lower keeps the face as well in a file of the same size; on small frames it
    does not (docs/architecture.md, "HD throughput")."""

    crf: int
    preset: str
    hd_pixels: int | None = None  # None: one setting for every size
    hd_crf: int | None = None
    hd_preset: str | None = None

    @classmethod
    def of(cls, cfg) -> Encoding:
        """From a config with ``crf``, ``preset`` and an ``hd`` group (refine's)."""
        hd = cfg.hd
        return cls(cfg.crf, cfg.preset, hd.min_pixels, hd.crf, hd.preset)

    def for_frame(self, frame: np.ndarray) -> tuple[int, str]:
        h, w = frame.shape[:2]
        if self.hd_pixels is not None and h * w >= self.hd_pixels:
            return self.hd_crf, self.hd_preset
        return self.crf, self.preset


class FrameSink:
    """``write(i, {suffix: frame})``: the stream "" is the main one, others (say
    ".side_by_side") go to files named with their suffix. ``files`` lists what was
    written, in order."""

    def __init__(
        self,
        target: Source,
        folder: Path,
        names: list[str],
        encoding: Encoding,
        image_format: str | None = None,  # None: each still keeps its own extension
        audio: Path | None = None,  # a sound track in place of the target's own
    ):
        self.target, self.folder, self.names, self.audio = target, folder, names, audio
        self.encoding, self.image_format = encoding, image_format
        self.writers: dict[str, VideoWriter] = {}
        self.files: list[str] = []

    def write(self, i: int, frames: dict[str, np.ndarray]) -> None:
        if self.target.kind == "images":
            stem, own = Path(self.names[i]).stem, Path(self.names[i]).suffix.lstrip(".")
            ext = self.image_format or own
            params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext in ("jpg", "jpeg") else []
            for suffix, frame in frames.items():
                name = f"{stem}{suffix}.{ext}"
                cv2.imwrite(str(self.folder / name), frame, params)
                self.files.append(name)
            return
        for suffix, frame in frames.items():
            if suffix not in self.writers:
                name = f"{self.target.name}{suffix}.mp4"
                crf, preset = self.encoding.for_frame(frame)
                self.writers[suffix] = self.target.video_writer(
                    self.folder / name, frame, crf, preset, self.audio
                )
                self.files.append(name)
            self.writers[suffix].write(frame)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
