"""The audio mark on converted speech: the run tag the video mark carries
(``pipeline/provenance/audio_watermark.py``), put on the converted WAV as a whole (the
mark's embedding measures every bit over the clip, so it is not streamed: it holds the
clip split into 32 bands, about 2 MB per second of speech, while it runs).

The mark's margin shrinks with the clip's length (64 bits share its frames), and 3 s is
at the edge of what survives AAC at 64 kbit/s. So each clip is checked: the marked audio
goes through an AAC encode at 64 kbit/s and back, and if the tag does not read exactly
the clip is marked again, stronger (a louder mark, a lower SNR; the strength used and
the SNR are in ``outputs/voice/convert.json``).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from pipeline.io.atomic import atomic_outputs
from pipeline.io.audio import decode_audio, read_wav, to_int16, write_wav
from pipeline.provenance import audio_watermark

STRENGTHS = (1.0, 1.5, 2.0, 3.0)
CHECK_BITRATE = "64k"  # the re-encode the mark must survive


def through_aac(samples: np.ndarray, rate: int, bitrate: str = CHECK_BITRATE) -> np.ndarray:
    """``samples`` after an AAC encode at ``bitrate`` and a decode, at ``rate``."""
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as tmp:
        wav, m4a = Path(tmp) / "in.wav", Path(tmp) / "out.m4a"
        write_wav(wav, to_int16(samples), rate)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav)]
        subprocess.run([*cmd, "-c:a", "aac", "-b:a", bitrate, str(m4a)], check=True)
        return decode_audio(m4a, rate)


def mark_wav(path: Path, tag: str) -> dict:
    """Mark the WAV at ``path`` in place (through a temporary file) with the weakest
    strength whose mark reads back exactly after an AAC encode at 64 kbit/s."""
    samples, rate = read_wav(path)
    for strength in STRENGTHS:
        marked = audio_watermark.embed(samples, rate, tag, strength)
        check = audio_watermark.read(through_aac(marked, rate), rate)
        if check.tag == tag:
            break
    with atomic_outputs(path) as (tmp,):
        write_wav(tmp, to_int16(marked), rate)
    return {
        "audio_mark_strength": strength,
        "audio_mark_checked": check.tag == tag,
        "audio_mark_snr_db": round(audio_watermark.segmental_snr(samples, marked, rate), 1),
    }


def read_mark(samples: np.ndarray, rate: int, tag: str) -> dict:
    """Whether a sound track carries ``tag``, and the share of its 64 code bits read."""
    r = audio_watermark.read(samples, rate)
    return {
        "audio_watermark_found": float(r.tag == tag),
        "audio_watermark_bit_accuracy": round(r.bit_accuracy(tag), 4),
    }
