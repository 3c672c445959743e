"""Voice speeds on this machine, in one run: synthetic speaker rendering and streamed
conversion (issue 13's goal: conversion at 50x real time or more on 2 cores), and the
conversion's peak memory for a clip and one 4x as long (goal: flat).

  * render: eSpeak NG reading + WORLD reshaping + synthesis of ``--sentences`` sentences
    for one speaker, and the same with the analysis a collected voice adds;
  * recordings: the same speech as a recording with a second of silence between
    sentences, read as a ``data=folder`` identity's (loudness, silence trimming by the
    WebRTC detector, WORLD analysis of what is kept);
  * convert: ``convert_audio`` on an MP4 sound track (AAC, as refine reads a target) of
    ``--seconds`` and 4x that, each in a fresh process, with the default model size
    (speed does not depend on the weights).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.io.audio import to_int16, write_wav  # noqa: E402
from pipeline.voice import speakers, world  # noqa: E402
from pipeline.voice.sentences import sentences  # noqa: E402


def render_figures(count: int) -> dict:
    texts = sentences(4242, count)
    start = time.perf_counter()
    bases = speakers.base_readings(texts)
    base_s = time.perf_counter() - start
    who = speakers.speaker_from_seed("bench", 3)
    start = time.perf_counter()
    audio = [speakers.render(b, who) for _, b in bases]
    render_s = time.perf_counter() - start
    start = time.perf_counter()
    for a in audio:
        world.analyse(a)
    analyse_s = time.perf_counter() - start
    seconds = sum(len(a) for a in audio) / world.RATE
    return {
        "speech_seconds": round(seconds, 1),
        "base_reading_x_real_time": round(seconds / base_s, 1),
        "speaker_render_x_real_time": round(seconds / render_s, 1),
        "collect_analysis_x_real_time": round(seconds / analyse_s, 1),
    } | recording_figures(audio)


def recording_figures(audio: list[np.ndarray]) -> dict:
    """The speech as one recording with pauses, read as a real identity's."""
    from omegaconf import OmegaConf

    from pipeline.config.compose import compose_conf
    from pipeline.voice.recordings import recorded_speech

    pause = np.zeros(world.RATE, np.float32)
    x = np.concatenate([part for a in audio for part in (a.astype(np.float32), pause)])
    with tempfile.TemporaryDirectory() as tmp:
        write_wav(Path(tmp) / "talk.wav", to_int16(x), world.RATE)
        ident = OmegaConf.create({"name": "bench", "videos": [], "audio": ["talk.wav"]})
        voice = OmegaConf.create(compose_conf()).voice
        start = time.perf_counter()
        _, tally = recorded_speech(Path(tmp), ident, voice)
        took = time.perf_counter() - start
    return {
        "recording_seconds": round(len(x) / world.RATE, 1),
        "recording_read_x_real_time": round(len(x) / world.RATE / took, 1),
        "recording_silence_trimmed_seconds": round(tally.seconds_silence_trimmed, 1),
    }


def _clip(folder: Path, seconds: float) -> Path:
    """An MP4 with a speech track of ``seconds`` (sentences read by one speaker)."""
    from pipeline.io.video import VideoWriter

    texts = sentences(777, max(2, int(seconds / 2.5)))
    who = speakers.speaker_from_seed("bench", 2)
    speech = np.concatenate([speakers.render(b, who) for _, b in speakers.base_readings(texts)])
    while len(speech) < seconds * world.RATE:
        speech = np.concatenate([speech, speech])
    wav = folder / f"speech_{seconds:g}.wav"
    write_wav(wav, to_int16(speech[: int(seconds * world.RATE)]), world.RATE)
    out = folder / f"clip_{seconds:g}.mp4"
    frame = np.zeros((64, 64, 3), np.uint8)
    with VideoWriter(out, (64, 64), 5, 30, wav) as w:
        for _ in range(int(seconds * 5)):
            w.write(frame)
    return out


def _convert_child(clip: str, out: str) -> None:
    from omegaconf import OmegaConf

    from pipeline.config.compose import compose_conf
    from pipeline.voice.convert import convert_audio
    from pipeline.voice.inference import Converter
    from pipeline.voice.model import VoiceNet

    v = OmegaConf.create(compose_conf()).voice
    net = Converter.from_net(VoiceNet(2, v.context, v.width, v.bottleneck))
    stats = convert_audio(net, Path(clip), Path(out), 0, 1, v.chunk_seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(stats | {"peak_rss_mb": round(peak_mb, 1)}))


def convert_figures(folder: Path, seconds: float) -> dict:
    out = {}
    for s in (seconds, 4 * seconds):
        clip = _clip(folder, s)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(clip), str(folder / "out.wav")],
            capture_output=True,
            text=True,
            check=True,
        )
        out[f"{s:g}s"] = json.loads(done.stdout.strip().splitlines()[-1])
    one, four = out[f"{seconds:g}s"], out[f"{4 * seconds:g}s"]
    return {
        "convert": out,
        "convert_x_real_time": four["real_time_factor"],
        "peak_rss_ratio_4x": round(four["peak_rss_mb"] / one["peak_rss_mb"], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _convert_child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        figures = render_figures(args.sentences) | convert_figures(Path(tmp), args.seconds)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
