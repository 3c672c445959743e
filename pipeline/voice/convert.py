"""Convert a clip's speech to another speaker's voice, streaming in chunks.

The audio is read, analysed, converted and synthesised ``chunk_seconds`` at a time, with
half a second of overlap on each side that is cross-faded away, so memory stays flat
however long the clip; the output is written to the WAV as it is made.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipeline.io.audio import decode_audio, to_int16
from pipeline.voice import world
from pipeline.voice.model import VoiceNet, convert

OVERLAP = 0.5  # seconds read on each side of a chunk
FADE = 0.05  # seconds of cross-fade where two chunks meet


def chunks(path: Path, chunk_seconds: float) -> Iterator[tuple[np.ndarray, int, int]]:
    """(samples with overlap, samples of lead-in, samples of the chunk itself) at
    ``world.RATE``, until the file's audio ends."""
    start, pad = 0.0, OVERLAP
    while True:
        lead = min(start, pad)
        x = decode_audio(path, world.RATE, start - lead, chunk_seconds + lead + pad)
        body = len(x) - int(round(lead * world.RATE))
        if body <= 0:
            return
        core = min(body, int(round(chunk_seconds * world.RATE)))
        yield x, int(round(lead * world.RATE)), core
        if body <= int(round(chunk_seconds * world.RATE)):
            return
        start += chunk_seconds


def convert_audio(
    net: VoiceNet,
    source: Path,
    out: Path,
    src: int | None,
    dst: int,
    chunk_seconds: float,
    mark=None,
) -> dict:
    """Write ``source``'s audio in speaker ``dst``'s voice to the WAV ``out`` (16 kHz);
    ``src`` is the speaker's index in the model, or None when unknown (a real clip: its
    own log-F0 statistics stand in). ``mark(samples, offset)`` watermarks each piece."""
    fade = int(FADE * world.RATE)
    tail = np.zeros(0, np.float32)
    written, seconds_in, start = 0, 0.0, time.perf_counter()
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(world.RATE)
        for x, lead, core in chunks(source, chunk_seconds):
            feats = world.analyse(x)
            y = world.synthesise(convert(net, feats, src, dst))
            y = np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]
            piece = y[lead : lead + core + fade].copy()
            if len(tail):  # cross-fade into the previous chunk's overhang
                k = min(len(tail), len(piece))
                ramp = np.linspace(0, 1, k, dtype=np.float32)
                piece[:k] = piece[:k] * ramp + tail[:k] * (1 - ramp)
            body, tail = piece[:core], piece[core:]
            if mark is not None:
                body = mark(body, written)
            w.writeframes(to_int16(body).tobytes())
            written += len(body)
            seconds_in += core / world.RATE
    elapsed = time.perf_counter() - start
    return {
        "seconds": round(seconds_in, 3),
        "real_time_factor": round(seconds_in / max(elapsed, 1e-9), 1),
    }
