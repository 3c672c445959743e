"""Where a target's output frames go: one H.264 file per stream for a clip (carrying the
clip's sound), one image per frame and stream for a folder of stills. Generate's raw
composite and refine's final and side-by-side outputs are all written through it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from pipeline.io.encoding import Encoding
from pipeline.io.video import VideoWriter


class Source(Protocol):
    """What the sink needs of a target (pipeline/generate/targets.Target)."""

    name: str
    kind: str  # "video" | "images"

    def video_writer(
        self, path: Path, frame: np.ndarray, crf: int, preset: str, audio: Path | None = None
    ) -> VideoWriter: ...


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
