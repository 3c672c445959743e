"""A generated soundtrack, so target clips are real videos with an audio track."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def soundtrack(seconds: float, base_hz: float, seed: int, rate: int = 48000) -> np.ndarray:
    """Mono int16 samples: a slow melody of soft tones, deterministic from ``seed``."""
    rng = np.random.default_rng([seed, 0xA0])
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    note_len = 0.4
    steps = rng.choice([0, 2, 4, 5, 7, 9, 12], size=int(np.ceil(seconds / note_len)) + 1)
    freq = base_hz * 2 ** (steps[(t / note_len).astype(int)] / 12)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    envelope = np.minimum(1, (t % note_len) / 0.02) * np.exp(-(t % note_len) * 4)
    signal = 0.3 * envelope * (np.sin(phase) + 0.3 * np.sin(2 * phase))
    return np.round(signal * 32767).astype(np.int16)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = 48000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
