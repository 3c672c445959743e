"""Target clips and image folders that collect wrote, as frames plus landmarks.

A target is a folder under data/targets/: ``video.mp4`` + ``track.npz`` (a clip) or
``images/`` + ``faces.json`` (stills). Frames are streamed; landmarks are (N, 68, 2) with
NaN rows where a frame has no face.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import UserError
from pipeline.io.image import read_image
from pipeline.io.video import VideoWriter, has_audio, read_frames


@dataclass
class Target:
    name: str
    kind: str  # video | images
    folder: Path
    meta: dict

    @property
    def frames(self) -> int:
        return int(self.meta["frames"])

    @property
    def fps(self) -> float:
        return float(self.meta.get("fps", 25.0))

    @property
    def swap_to(self) -> str:
        return self.meta["swap_to"]

    @property
    def performer(self) -> str | None:
        """The identity in the target (synthetic clips know it; real ones do not)."""
        return self.meta.get("identity")

    @property
    def media(self) -> Path:
        return self.folder / ("video.mp4" if self.kind == "video" else "images")

    @property
    def truth(self) -> Path | None:
        path = self.folder / ("ground_truth.mp4" if self.kind == "video" else "truth")
        return path if path.exists() else None

    @functools.cached_property
    def audio(self) -> bool:
        """Whether the clip has a sound track to carry into the outputs."""
        return self.kind == "video" and has_audio(self.media)

    def video_writer(
        self, path: Path, frame: np.ndarray, crf: int, preset: str, audio: Path | None = None
    ) -> VideoWriter:
        """An H.264 writer for frames shaped like ``frame``, at the clip's rate, carrying
        ``audio`` (encoded to AAC) or else the clip's own sound track unchanged (copied,
        not re-encoded) when it has one."""
        h, w = frame.shape[:2]
        own = self.media if self.audio else None
        return VideoWriter(
            path,
            (w, h),
            self.fps,
            crf,
            audio_path=audio or own,
            audio_codec="aac" if audio else "copy",
            preset=preset,
        )

    def names(self) -> list[str]:
        """Per-frame names: image file names, or frame numbers of a clip."""
        if self.kind == "images":
            return sorted(json.loads((self.folder / "faces.json").read_text()))
        return [f"{i:05d}" for i in range(self.frames)]

    def landmarks(self) -> np.ndarray:
        if self.kind == "video":
            with np.load(self.folder / "track.npz") as track:
                return track["landmarks"].astype(np.float64)
        faces = json.loads((self.folder / "faces.json").read_text())
        out = np.full((len(faces), 68, 2), np.nan)
        for i, name in enumerate(sorted(faces)):
            if faces[name] is not None:
                out[i] = faces[name]
        return out

    def read(self) -> Iterator[np.ndarray]:
        """BGR frames in order; a clip is streamed, never held whole."""
        if self.kind == "video":
            yield from read_frames(self.media)
            return
        for name in self.names():
            yield read_image(self.media / name)


def open_targets(targets_dir: Path) -> list[Target]:
    if not targets_dir.is_dir():
        raise UserError(f"{targets_dir} is missing; run the collect stage (dvc repro collect).")
    targets = []
    for folder in sorted(p for p in targets_dir.iterdir() if p.is_dir()):
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            raise UserError(f"{folder} has no meta.json; re-run the collect stage.")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        targets.append(Target(folder.name, meta.get("kind", "video"), folder, meta))
    if not targets:
        raise UserError(f"{targets_dir} holds no target; add data.targets or data.stills.")
    return targets
