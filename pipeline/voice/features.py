"""A speaker's collected speech on disk: ``<voices>/<name>/``

    features.npz   f0 (T,) Hz, 0 unvoiced; envelope (T, 80) log power on a mel axis;
                   aperiodicity (T, bands) coded, dB; starts (U+1,) the frame where each
                   utterance begins, and T at the end (10 ms frames at 16 kHz, WORLD)
    speaker.json   who: name, source, the synthetic voice's parameters, seconds, counts
    sample.wav     the first utterance, to listen to
    spectrogram.png  the first utterance's envelope, to look at

The voice model and the evaluators read these; nothing re-reads the audio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.voice import world


@dataclass
class SpeakerSet:
    """Every utterance of one speaker, concatenated, with the utterance boundaries."""

    name: str
    f0: np.ndarray
    envelope: np.ndarray
    aperiodicity: np.ndarray
    starts: np.ndarray

    @classmethod
    def join(cls, name: str, parts: list[world.Features]) -> SpeakerSet:
        starts = np.cumsum([0, *(len(p) for p in parts)])
        return cls(
            name,
            np.concatenate([p.f0 for p in parts]),
            np.concatenate([p.envelope for p in parts]),
            np.concatenate([p.aperiodicity for p in parts]),
            starts.astype(np.int64),
        )

    def utterance(self, i: int) -> world.Features:
        a, b = self.starts[i], self.starts[i + 1]
        return world.Features(self.f0[a:b], self.envelope[a:b], self.aperiodicity[a:b])

    def __len__(self) -> int:
        return len(self.starts) - 1

    @property
    def seconds(self) -> float:
        return len(self.f0) * world.FRAME_MS / 1000

    def log_f0_stats(self) -> tuple[float, float]:
        """Mean and standard deviation of log F0 over voiced frames."""
        lf = np.log(self.f0[self.f0 > 0])
        return float(lf.mean()), float(lf.std())

    def save(self, folder: Path) -> None:
        np.savez_compressed(
            folder / "features.npz",
            f0=self.f0,
            envelope=self.envelope,
            aperiodicity=self.aperiodicity,
            starts=self.starts,
        )

    @classmethod
    def load(cls, folder: Path) -> SpeakerSet:
        with np.load(folder / "features.npz", allow_pickle=False) as z:
            return cls(folder.name, z["f0"], z["envelope"], z["aperiodicity"], z["starts"])


def read_speaker(folder: Path) -> tuple[SpeakerSet, dict]:
    """A collected speaker and its speaker.json."""
    return SpeakerSet.load(folder), json.loads((folder / "speaker.json").read_text())
