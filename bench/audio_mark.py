"""The audio watermark through AAC: bit accuracy, SNR, false reads and speed.

Marks 12 eSpeak sentences (3.5-5 s, 22.05 kHz) and 4 soundtrack melodies (6 s, 48 kHz)
with one run tag, resamples each to 48 kHz, muxes it as AAC into an MP4 (the project's
own ``VideoWriter``, ffmpeg's default 128 kbit/s), decodes it, re-encodes that MP4's
audio to AAC 64 kbit/s and decodes again; every step is read back. Then reads 200
unmarked clips (100 other sentences in two voices, 50 melodies, 25 white noises at
random levels and rates, 25 silences and near-silences) and counts tags found.
Prints one JSON object: bit accuracy after 128k and after the 64k re-encode (worst clip
and clips read), each clip's smallest |z| after 64k, segmental SNR (dB) on speech and
melodies, false reads / trials with the largest mean |z| among them (a read needs
``MIN_MEAN_Z`` and the CRC), and embed and read speed as multiples of real time (one
process, including the resampling to and from 16 kHz).
``--strength`` sets the embedding strength (default: the module's).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.io.audio import decode_audio, resample, soundtrack, to_int16, write_wav  # noqa: E402
from pipeline.io.video import VideoWriter  # noqa: E402
from pipeline.provenance import audio_watermark as aw  # noqa: E402
from pipeline.voice.espeak import speak_many  # noqa: E402

TAG = "3f2a9c0d7e1b"
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the quiet river bank.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "A watermark should survive compression, resampling, and a second encode.",
    "Seven silver swans swam silently, then stopped. Nobody saw them again.",
    "We measured every figure twice before writing it down in the report.",
    "Hello. Is anybody there? I can hear you, but I cannot see you.",
    "The weather today is cold and windy, with rain expected in the evening.",
    "Numbers like four hundred and twenty seven are read out one by one.",
    "She sells sea shells by the sea shore, and the shells she sells are real.",
    "In the beginning the pipeline was slow; now it renders faster than real time.",
    "Turn left at the second light, then keep going until you reach the bridge.",
    "Music, speech, and silence each challenge an audio mark in different ways.",
]
WORDS = (
    "after again air animal answer apple area army baby back ball bank basket bear beautiful "
    "bed begin bell better bird black blue boat body book bottle box boy bread bridge bright "
    "brother brown build busy butter cake call camera candle car card careful carry cat chair "
    "change child circle city clean clock close cloud coat cold colour corner country cup "
    "dance dark daughter deep desk dinner doctor door dream dress drink driver early earth "
    "east engine evening face family farm father field finger fire fish floor flower forest "
    "friend garden glass gold green ground guitar hand happy heavy history holiday horse house"
).split()
EXE = imageio_ffmpeg.get_ffmpeg_exe()


def through_aac(samples: np.ndarray, rate: int, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` after AAC 128k in an MP4, and after that MP4's audio re-encoded at 64k."""
    write_wav(folder / "marked.wav", to_int16(resample(samples, rate, 48000)))
    mp4 = folder / "marked.mp4"
    with VideoWriter(mp4, (32, 32), 25.0, audio_path=folder / "marked.wav") as out:
        out.write(np.zeros((32, 32, 3), np.uint8))
    m4a = folder / "again.m4a"
    cmd = [EXE, "-v", "error", "-y", "-i", str(mp4), "-vn", "-c:a", "aac", "-b:a", "64k", str(m4a)]
    subprocess.run(cmd, check=True)
    return decode_audio(mp4, 48000), decode_audio(m4a, 48000)


def marked_clips() -> list[tuple[str, np.ndarray, int]]:
    speech = [("speech", s.samples, s.rate) for s in speak_many(SENTENCES)]
    melodies = [
        ("melody", (soundtrack(6, 220, seed) / 32768).astype(np.float32), 48000)
        for seed in range(4)
    ]
    return speech + melodies


def unmarked_clips() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(2024)
    texts = [" ".join(rng.choice(WORDS, rng.integers(8, 16))) + "." for _ in range(100)]
    speech = speak_many(texts[:50], voice="en-us") + speak_many(texts[50:], voice="en")
    clips = [(s.samples, s.rate) for s in speech]
    for seed in range(50):
        base = float(rng.choice([165, 196, 220, 262, 330]))
        clips.append(((soundtrack(6, base, 100 + seed) / 32768).astype(np.float32), 48000))
    rates = [16000, 22050, 44100, 48000]
    for _ in range(25):
        rate = int(rng.choice(rates))
        n = int(rate * rng.uniform(3, 10))
        clips.append((rng.normal(0, 10 ** rng.uniform(-3, -0.7), n).astype(np.float32), rate))
    for k in range(25):
        rate = int(rng.choice(rates))
        n = int(rate * rng.uniform(3, 10))
        level = 0.0 if k % 2 == 0 else 10 ** rng.uniform(-6, -4)  # digital or near silence
        clips.append((rng.normal(0, level, n).astype(np.float32), rate))
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strength", type=float, default=None)
    args = parser.parse_args()
    kwargs = {} if args.strength is None else {"strength": args.strength}
    rows = []
    seconds = embed_time = read_time = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for kind, samples, rate in marked_clips():
            t0 = time.perf_counter()
            marked = aw.embed(samples, rate, TAG, **kwargs)
            t1 = time.perf_counter()
            direct = aw.read(marked, rate)
            t2 = time.perf_counter()
            seconds += len(samples) / rate
            embed_time, read_time = embed_time + t1 - t0, read_time + t2 - t1
            after128, after64 = through_aac(marked, rate, Path(tmp))
            r128, r64 = aw.read(after128, 48000), aw.read(after64, 48000)
            rows.append(
                {
                    "kind": kind,
                    "snr": aw.segmental_snr(samples, marked, rate),
                    "direct": direct.bit_accuracy(TAG),
                    "acc128": r128.bit_accuracy(TAG),
                    "acc64": r64.bit_accuracy(TAG),
                    "found64": r64.tag == TAG,
                    "min_z64": r64.min_z,
                    "mean_z64": r64.mean_z,
                }
            )
    unmarked = [aw.read(samples, rate) for samples, rate in unmarked_clips()]
    speech = [r["snr"] for r in rows if r["kind"] == "speech"]
    melody = [r["snr"] for r in rows if r["kind"] == "melody"]
    print(
        json.dumps(
            {
                "strength": kwargs.get("strength", 1.0),
                "clips": len(rows),
                "bit_accuracy_direct_min": min(r["direct"] for r in rows),
                "bit_accuracy_128k_min": min(r["acc128"] for r in rows),
                "bit_accuracy_64k_min": min(r["acc64"] for r in rows),
                "tag_read_after_64k": f"{sum(r['found64'] for r in rows)}/{len(rows)}",
                "min_z_after_64k": [round(r["min_z64"], 2) for r in rows],
                "mean_z_after_64k_min": round(min(r["mean_z64"] for r in rows), 2),
                "segmental_snr_db": {
                    "speech_mean": round(float(np.mean(speech)), 1),
                    "speech_min": round(min(speech), 1),
                    "melody_mean": round(float(np.mean(melody)), 1),
                    "melody_min": round(min(melody), 1),
                },
                "false_reads": f"{sum(r.found for r in unmarked)}/{len(unmarked)}",
                "unmarked_mean_z_max": round(max(r.mean_z for r in unmarked), 2),
                "accept_mean_z": aw.MIN_MEAN_Z,
                "embed_x_realtime": round(seconds / embed_time, 1),
                "read_x_realtime": round(seconds / read_time, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
