"""Synthetic speakers: one eSpeak NG reading reshaped by WORLD into a person's voice.

A speaker is a seed, as a face is. Every speaker reads from the same eSpeak NG rendering
of a sentence, reshaped in the vocoder's features:
  * pitch: median F0 and how widely it moves (the log-F0 range);
  * vocal-tract length: the envelope's formants moved by a factor (shorter tract: higher);
  * spectral tilt: a brighter or darker voice (dB per octave above 500 Hz);
  * breathiness: more aperiodic energy.
So "A's sentence in B's voice" is B's reshaping of the very rendering A's came from: the
same words with the same phoneme timing, an exact ground truth for voice conversion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pipeline.voice import world
from pipeline.voice.espeak import RATE as ESPEAK_RATE
from pipeline.voice.espeak import Speech, speak_many

# eSpeak NG's own voice: the one reading every speaker starts from.
BASE_VOICE = "en-us"
BASE_WPM = 150


@dataclass(frozen=True)
class Speaker:
    name: str
    f0_median: float  # Hz
    f0_range: float  # scale of log-F0 movement around the median (1: eSpeak's own)
    tract: float  # formant frequency factor (>1: a shorter vocal tract)
    tilt: float  # dB per octave above 500 Hz
    breath: float  # dB added to the aperiodicity (0: none; higher: breathier)

    def as_dict(self) -> dict:
        return asdict(self)


def speaker_from_seed(name: str, seed: int) -> Speaker:
    """Each attribute drawn from its own range, so two seeds differ the way two people do."""
    rng = np.random.default_rng([seed, 0x5B])
    low = rng.uniform() < 0.5  # a lower or higher voice, as men's and women's differ
    return Speaker(
        name=name,
        f0_median=float(np.exp(rng.uniform(*(np.log([85, 140]) if low else np.log([165, 260]))))),
        f0_range=float(rng.uniform(0.6, 1.5)),
        tract=float(rng.uniform(0.86, 1.0) if low else rng.uniform(1.0, 1.18)),
        tilt=float(rng.uniform(-3.0, 2.0)),
        breath=float(rng.uniform(0.0, 12.0)),
    )


def reshape(base: world.Features, speaker: Speaker) -> world.Features:
    """The base reading's features in ``speaker``'s voice (same frames, same timing)."""
    voiced = base.f0 > 0
    log_f0 = np.log(np.where(voiced, base.f0, 1.0))
    centre = np.median(log_f0[voiced]) if voiced.any() else 0.0
    f0 = np.where(
        voiced, np.exp((log_f0 - centre) * speaker.f0_range + np.log(speaker.f0_median)), 0.0
    )
    octaves = np.log2(np.maximum(world.MEL_HZ, 500.0) / 500.0)
    tilt = speaker.tilt * octaves * np.log(10) / 10  # dB of power -> natural log
    envelope = world.warp_envelope(base.envelope, speaker.tract) + tilt
    # Coded aperiodicity is in dB below the periodic part (0: fully aperiodic).
    aperiodicity = np.minimum(base.aperiodicity + speaker.breath, -0.5)
    return world.Features(
        f0.astype(np.float32), envelope.astype(np.float32), aperiodicity.astype(np.float32)
    )


def base_readings(texts: list[str]) -> list[tuple[Speech, world.Features]]:
    """eSpeak NG's reading of each text and its WORLD features, shared by every speaker."""
    speech = speak_many(texts, BASE_VOICE, BASE_WPM)
    return [(s, world.analyse(s.samples, ESPEAK_RATE)) for s in speech]


def render(base: world.Features, speaker: Speaker) -> np.ndarray:
    """The speaker reading the base sentence: float32 samples at ``world.RATE``."""
    return world.synthesise(reshape(base, speaker))
