"""The audio mark on converted speech: the run tag the video mark carries
(``pipeline/provenance/audio_watermark.py``), put on the converted WAV as a whole (the
mark's embedding measures every bit over the clip, so it is not streamed: about 64 kB
per second of speech while it runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.io.atomic import atomic_outputs
from pipeline.io.audio import read_wav, to_int16, write_wav
from pipeline.provenance import audio_watermark


def mark_wav(path: Path, tag: str) -> dict:
    """Mark the WAV at ``path`` in place (through a temporary file); returns the
    segmental SNR of the mark (dB)."""
    samples, rate = read_wav(path)
    marked = audio_watermark.embed(samples, rate, tag)
    with atomic_outputs(path) as (tmp,):
        write_wav(tmp, to_int16(marked), rate)
    return {"audio_mark_snr_db": round(audio_watermark.segmental_snr(samples, marked, rate), 1)}


def read_mark(samples: np.ndarray, rate: int, tag: str) -> dict:
    """Whether a sound track carries ``tag``, and the share of its 64 code bits read."""
    r = audio_watermark.read(samples, rate)
    return {
        "audio_watermark_found": float(r.tag == tag),
        "audio_watermark_bit_accuracy": round(r.bit_accuracy(tag), 4),
    }
