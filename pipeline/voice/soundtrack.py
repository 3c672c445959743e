"""A synthetic target's soundtrack: the performer reading sentences, the same reading in
the new identity's voice (the ground truth of the voice swap), and a mouth that moves
with the phonemes (lip sync for the renderer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import resample_poly

from pipeline.voice import speakers, world
from pipeline.voice.sentences import sentences

PAUSE = 0.35  # seconds between sentences
_SENTENCE_SEED = 10**6  # target t reads sentences(_SENTENCE_SEED + t.seed): none trained on

# How far each kind of sound opens the mouth (eSpeak NG's phoneme mnemonics, stress
# marks and length digits stripped); anything not listed opens it a little.
_OPEN = {
    **dict.fromkeys("a A aI aU O OI 0 V".split(), 0.95),
    **dict.fromkeys("e E eI @ 3 3: @L a#".split(), 0.6),
    **dict.fromkeys("i I u U oU o @U".split(), 0.4),
    **dict.fromkeys("p b m".split(), 0.0),
    **dict.fromkeys("f v".split(), 0.12),
    "_": 0.0,
}


@dataclass
class TargetSpeech:
    actor: np.ndarray  # float32 at world.RATE, exactly the clip's length
    truth: np.ndarray  # the same reading in the new identity's voice
    phonemes: list[tuple[float, str]]  # (start seconds, mnemonic) in the clip
    text: str


def _openness(phoneme: str) -> float:
    name = re.sub(r"[',%=:;#]|\d", "", phoneme) or "_"
    if name in _OPEN:
        return _OPEN[name]
    # Diphthongs and variants (o@, i@, e@ ...) open as their first vowel does.
    for vowels, value in (("aAOV0", 0.95), ("eE@3", 0.6), ("iIuUo", 0.4)):
        if name[0] in vowels:
            return value
    return 0.15


def mouth_track(phonemes: list[tuple[float, str]], frames: int, fps: float) -> np.ndarray:
    """Mouth opening per video frame in [0, 1]: each phoneme's opening held until the
    next one, smoothed over ~40 ms as lips move between sounds."""
    t = np.arange(frames) / fps
    starts = np.array([p[0] for p in phonemes] or [0.0])
    values = np.array([_openness(p[1]) for p in phonemes] or [0.0])
    idx = np.searchsorted(starts, t, side="right") - 1
    track = np.where(idx >= 0, values[np.clip(idx, 0, None)], 0.0)
    return np.clip(gaussian_filter1d(track, sigma=0.04 * fps), 0, 1).astype(np.float32)


def target_speech(actor_voice: int, truth_voice: int, seconds: float, seed: int) -> TargetSpeech:
    """Sentences read by ``actor_voice`` to fill ``seconds``, and by ``truth_voice`` with
    the same timing (both reshape one eSpeak NG reading)."""
    n = int(round(seconds * world.RATE))
    texts, readings, total = [], [], 0.0
    count = 1
    while total < seconds:
        texts = sentences(_SENTENCE_SEED + seed, count)
        readings = speakers.base_readings(texts)
        total = sum(s.seconds for s, _ in readings) + PAUSE * (len(readings) - 1)
        count += 1
    actor_sp = speakers.speaker_from_seed("actor", actor_voice)
    truth_sp = speakers.speaker_from_seed("truth", truth_voice)
    gap = np.zeros(int(PAUSE * world.RATE), np.float32)
    actor, truth, phonemes, offset = [], [], [], 0.0
    for speech, base in readings:
        for out, who in ((actor, actor_sp), (truth, truth_sp)):
            out += [speakers.render(base, who), gap]
        phonemes += [(offset + t, p) for t, p in speech.phonemes]
        offset += len(actor[-2]) / world.RATE + PAUSE
    fade = np.minimum(1, (n - np.arange(n)) / (0.02 * world.RATE)).astype(np.float32)
    a, b = (np.concatenate(x)[:n] * fade for x in (actor, truth))
    return TargetSpeech(a, b, [p for p in phonemes if p[0] < seconds], " ".join(texts))


def to_48k(samples: np.ndarray) -> np.ndarray:
    """16 kHz speech at 48 kHz, the video files' audio rate."""
    return resample_poly(samples, 3, 1).astype(np.float32)
