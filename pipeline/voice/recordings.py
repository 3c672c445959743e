"""Real speech for a ``data=folder`` identity: its recordings, trimmed and checked.

An identity's speech is the audio files it lists (``audio``), or else the sound tracks
of its ``videos``. Its consent record is checked before any of them is read (the same
check as for its faces). Each file is

1. probed: a file without sound, or sampled below ``world.RATE`` (16 kHz, what WORLD
   analyses), is an error that names it;
2. decoded to mono at ``world.RATE`` and measured for loudness (ITU-R BS.1770 through
   ``pyloudnorm``): a silent file, or one quieter than ``voice.min_loudness`` LUFS, is an
   error; the rest are normalised to ``voice.loudness`` LUFS, so every speaker's
   envelope is on one scale;
3. cut into speech runs by the WebRTC voice activity detector (``webrtcvad``, the one
   Resemblyzer uses): silence between runs is trimmed, runs shorter than
   ``voice.min_segment_seconds`` and runs more than ``voice.quiet_segment_db`` below
   the file's loudness (a distant voice, a murmur) are rejected, and long runs are cut
   into pieces of at most ``voice.max_segment_seconds``.

What was trimmed and rejected is counted per identity (``speaker.json``); less than
``voice.min_speech_seconds`` of speech left is an error that names the files.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from scipy import ndimage

from pipeline.errors import UserError
from pipeline.io.audio import decode_audio, to_int16
from pipeline.io.video import probe
from pipeline.voice import world

FRAME = int(0.03 * world.RATE)  # the detector's frame: 30 ms
GAP_FRAMES = 10  # pauses up to 0.3 s stay inside a run
PAD_FRAMES = 3  # 90 ms kept either side of a run
SILENT_DBFS = -60.0  # a file whose peak is below this holds no sound at all


@dataclass
class Tally:
    """What one identity's recordings gave and lost, in seconds and counts."""

    files: int = 0
    seconds_read: float = 0.0
    seconds_silence_trimmed: float = 0.0
    runs_kept: int = 0
    runs_too_short: int = 0
    runs_too_quiet: int = 0
    seconds_rejected: float = 0.0
    loudness_lufs: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in vars(self).items()}


def speech_files(root: Path, ident: DictConfig) -> list[Path]:
    """The files whose sound is ``ident``'s speech: ``audio`` if listed, else ``videos``."""
    listed = list(ident.get("audio") or []) or list(ident.videos)
    key = "audio" if ident.get("audio") else "videos"
    if not listed:
        raise UserError(
            f"identity '{ident.name}' has no speech: list recordings of them in "
            f"data.identities[{ident.name}].audio (or videos with sound), or run with "
            "-S voice=none to keep the target's own voice."
        )
    files = [root / p for p in listed]
    for f in files:
        if not f.is_file():
            raise UserError(
                f"{f} (in data.identities[{ident.name}].{key}) does not exist; fix the path "
                "or remove it from the list."
            )
    return files


def _loudness(x: np.ndarray) -> float:
    import pyloudnorm

    if len(x) < int(0.4 * world.RATE):  # shorter than one BS.1770 block
        return float("-inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns on silence (-inf)
        return float(pyloudnorm.Meter(world.RATE).integrated_loudness(x.astype(np.float64)))


def read_file(path: Path, voice: DictConfig) -> tuple[np.ndarray, float]:
    """One file's sound, mono at ``world.RATE``, normalised to ``voice.loudness`` LUFS,
    and its loudness as recorded."""
    info = probe(path)
    rate = info["audio_rate"]
    if not info["streams"]:
        raise UserError(
            f"{path} cannot be read as audio (ffmpeg finds no streams in it); re-encode it "
            "or remove it from the identity's list."
        )
    if rate is None:
        raise UserError(
            f"{path} has no sound track; give the identity recordings with sound "
            "(data.identities[].audio), or run with -S voice=none."
        )
    if rate < world.RATE:
        raise UserError(
            f"{path} is sampled at {rate} Hz, below the {world.RATE} Hz the voice stages "
            "analyse; use a recording made at 16 kHz or more."
        )
    try:
        x = decode_audio(path, world.RATE)
    except ValueError as err:
        raise UserError(
            f"{path} cannot be read as audio ({err}); re-encode it or remove it from the "
            "identity's list."
        ) from None
    peak = float(np.abs(x).max(initial=0.0))
    if peak < 10 ** (SILENT_DBFS / 20):
        raise UserError(
            f"{path} is silent (peak below {SILENT_DBFS:.0f} dBFS): there is no speech in "
            "it; remove it from the identity's list."
        )
    lufs = _loudness(x)
    if not lufs >= voice.min_loudness:
        raise UserError(
            f"{path} is too quiet to analyse ({lufs:.1f} LUFS, below voice.min_loudness "
            f"{voice.min_loudness}); re-record it closer to the microphone or raise its level."
        )
    gain = 10 ** ((voice.loudness - lufs) / 20)
    y = x * gain
    # A loud peak may not pass 1 after the gain: the file is turned down as a whole.
    y = y / max(1.0, float(np.abs(y).max()) / 0.99)
    return y.astype(np.float32), lufs


def speech_runs(x: np.ndarray, mode: int) -> list[tuple[int, int]]:
    """(start, end) samples of the runs of speech the WebRTC detector finds in ``x``."""
    import webrtcvad

    vad = webrtcvad.Vad(mode)
    pcm = to_int16(x)
    n = len(pcm) // FRAME
    voiced = np.array(
        [vad.is_speech(pcm[i * FRAME : (i + 1) * FRAME].tobytes(), world.RATE) for i in range(n)],
        bool,
    )
    if not voiced.any():
        return []
    voiced = ndimage.binary_closing(np.pad(voiced, GAP_FRAMES), np.ones(GAP_FRAMES, bool))
    voiced = ndimage.binary_dilation(voiced, np.ones(2 * PAD_FRAMES + 1, bool))[
        GAP_FRAMES:-GAP_FRAMES
    ]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    return [(int(a) * FRAME, min(int(b) * FRAME, len(x))) for a, b in edges.reshape(-1, 2)]


def split_speech(x: np.ndarray, voice: DictConfig, tally: Tally) -> list[np.ndarray]:
    """The kept pieces of one normalised file's speech; the tally counts the rest."""
    rate = world.RATE
    runs = speech_runs(x, voice.vad_mode)
    tally.seconds_silence_trimmed += (len(x) - sum(b - a for a, b in runs)) / rate
    longest = int(voice.max_segment_seconds * rate)
    pieces = []
    for a, b in runs:
        run = x[a:b]
        if len(run) < voice.min_segment_seconds * rate:
            tally.runs_too_short += 1
            tally.seconds_rejected += len(run) / rate
            continue
        # Measured on the normalised file, whose loudness is voice.loudness.
        if not _loudness(run) >= voice.loudness - voice.quiet_segment_db:
            tally.runs_too_quiet += 1
            tally.seconds_rejected += len(run) / rate
            continue
        tally.runs_kept += 1
        parts = int(np.ceil(len(run) / longest))
        pieces += [p for p in np.array_split(run, parts) if len(p)]
    return pieces


def recorded_speech(root: Path, ident: DictConfig, voice: DictConfig) -> tuple[list, Tally]:
    """([(samples, WORLD features)] of each kept piece, the tally) for one identity, whose
    consent the caller has checked."""
    tally = Tally()
    out = []
    files = speech_files(root, ident)
    for path in files:
        x, lufs = read_file(path, voice)
        tally.files += 1
        tally.seconds_read += len(x) / world.RATE
        tally.loudness_lufs[path.name] = round(lufs, 1)
        for piece in split_speech(x, voice, tally):
            out.append((piece, world.analyse(piece)))
    seconds = sum(len(p) for p, _ in out) / world.RATE
    if seconds < voice.min_speech_seconds:
        names = ", ".join(str(f) for f in files)
        raise UserError(
            f"identity '{ident.name}' has {seconds:.1f} s of speech in {names} after silence "
            f"trimming, less than voice.min_speech_seconds ({voice.min_speech_seconds}); "
            "add recordings of them speaking."
        )
    return out, tally
