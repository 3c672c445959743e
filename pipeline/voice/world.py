"""Speech as WORLD vocoder features (``pyworld``) and back.

A frame every ``FRAME_MS`` at ``RATE``: F0 in Hz (0 where unvoiced), the spectral
envelope as ``MEL_BINS`` log-power values on a mel axis, and the band aperiodicity.
The mel envelope is what the voice model sees: a vocal tract that is longer or shorter
moves its formants along the frequency axis, and on this axis that is a resampling
(``warp_envelope``), the speech counterpart of the face side's random warp.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from pipeline.io.audio import resample
from pipeline.io.mel import hz_to_mel, mel_to_hz

with warnings.catch_warnings():
    # pyworld 0.3.5 reads its version through pkg_resources, which warns on import.
    warnings.simplefilter("ignore", UserWarning)
    import pyworld

RATE = 16000
FRAME_MS = 10.0  # 5 ms doubles the cost of D4C for no audible gain at 16 kHz
FFT_SIZE = 1024  # CheapTrick's window for F0 down to 47 Hz at 16 kHz needs 1024
MEL_BINS = 80
D4C_STRIDE = 4  # frames between D4C's aperiodicity reads (interpolated between)


# Centre frequency of each mel bin and of each linear FFT bin.
MEL_HZ = mel_to_hz(np.linspace(hz_to_mel(50.0), hz_to_mel(RATE / 2), MEL_BINS))
_LINEAR_HZ = np.linspace(0, RATE / 2, FFT_SIZE // 2 + 1)


@dataclass
class Features:
    """WORLD features of one utterance, one row per frame."""

    f0: np.ndarray  # (T,) Hz, 0 = unvoiced
    envelope: np.ndarray  # (T, MEL_BINS) natural log of the spectral power
    aperiodicity: np.ndarray | None  # (T, bands) coded band aperiodicity (dB); None: not read

    def __len__(self) -> int:
        return len(self.f0)


def to_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float64 samples resampled from ``rate`` to ``RATE``."""
    return resample(np.asarray(samples, np.float64), rate, RATE)


def analyse(samples: np.ndarray, rate: int = RATE, aperiodicity: bool = True) -> Features:
    """WORLD analysis (DIO + StoneMask, CheapTrick, D4C): about 60x real time.
    ``aperiodicity=False`` leaves D4C out (a fifth of the time): conversion draws a
    voiced frame's breathiness from the new speaker's statistics and never reads it.

    Measured shortcuts: DIO at ``speed=3`` (29 s of speech: 147 -> 84 ms) and D4C on
    every fourth frame, interpolated (the one coded band at 16 kHz moves slowly; 391 ms
    for every other frame). On the held-out conversion figures neither moved MCD, log-F0
    RMSE or STOI by more than their sentence-to-sentence noise (MCD 2.515 -> 2.507 dB,
    STOI 0.867 -> 0.865). Every eighth frame (about 120 ms less per 37 s) did not cost
    the conversion's own analysis anything, but a voice model retrained on such features
    scored MCD 2.576 dB, log-F0 RMSE 0.040, STOI 0.857 on 24 held-out sentences against
    2.535, 0.035, 0.859 retrained on every fourth, so it was not kept."""
    x = to_rate(samples, rate)
    f0, t = pyworld.dio(x, RATE, frame_period=FRAME_MS, speed=3)
    f0 = pyworld.stonemask(x, f0, t, RATE)
    sp = pyworld.cheaptrick(x, f0, t, RATE, fft_size=FFT_SIZE)
    envelope = linear_to_mel(np.log(np.maximum(sp, 1e-16))).astype(np.float32)
    if not aperiodicity:
        return Features(f0.astype(np.float32), envelope, None)
    every = slice(None, None, D4C_STRIDE)
    sparse = pyworld.d4c(x, f0[every].copy(), t[every].copy(), RATE, fft_size=FFT_SIZE)
    coded = pyworld.code_aperiodicity(sparse, RATE)
    ap = np.stack([np.interp(t, t[every], band) for band in coded.T], 1)
    return Features(f0.astype(np.float32), envelope, ap.astype(np.float32))


def synthesise(features: Features) -> np.ndarray:
    """Float32 samples at ``RATE`` from WORLD features, by pyworld: how the synthetic
    speakers (training data and ground truth) are rendered. Conversion uses its own
    vocoder, ``synthesis.synthesise``."""
    f0 = np.asarray(features.f0, np.float64)
    sp = np.exp(mel_to_linear(features.envelope.astype(np.float64)))
    ap = pyworld.decode_aperiodicity(
        np.ascontiguousarray(features.aperiodicity, np.float64), RATE, FFT_SIZE
    )
    y = pyworld.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), ap, RATE, FRAME_MS)
    return np.clip(y, -1, 1).astype(np.float32)


def _interpolation(to_hz: np.ndarray, from_hz: np.ndarray) -> np.ndarray:
    """The matrix M with ``values @ M`` = np.interp(to_hz, from_hz, values) per row."""
    m = np.zeros((len(from_hz), len(to_hz)))
    for j, f in enumerate(np.clip(to_hz, from_hz[0], from_hz[-1])):
        i = min(int(np.searchsorted(from_hz, f, side="right")) - 1, len(from_hz) - 2)
        w = (f - from_hz[i]) / (from_hz[i + 1] - from_hz[i])
        m[i, j], m[i + 1, j] = 1 - w, w
    return m


_TO_MEL = _interpolation(MEL_HZ, _LINEAR_HZ)


@functools.cache
def _to_linear(fft_size: int) -> np.ndarray:
    return _interpolation(np.linspace(0, RATE / 2, fft_size // 2 + 1), MEL_HZ)


def linear_to_mel(log_sp: np.ndarray) -> np.ndarray:
    """A log envelope on the FFT bins, sampled at the mel bin centres (it is smooth)."""
    return np.atleast_2d(log_sp) @ _TO_MEL


def mel_to_linear(log_mel: np.ndarray, fft_size: int = FFT_SIZE) -> np.ndarray:
    """The inverse of ``linear_to_mel`` on the bins of ``fft_size``, by interpolation
    between the mel bin centres (in ``log_mel``'s precision)."""
    m = _to_linear(fft_size)
    log_mel = np.atleast_2d(log_mel)
    return log_mel @ (m.astype(np.float32) if log_mel.dtype == np.float32 else m)


def warp_envelope(log_mel: np.ndarray, factor: float) -> np.ndarray:
    """The envelope of a vocal tract ``factor`` times shorter: every formant moves from
    f to ``factor`` x f (factor > 1: higher formants)."""
    source = hz_to_mel(np.clip(MEL_HZ / factor, MEL_HZ[0], MEL_HZ[-1]))
    grid = hz_to_mel(MEL_HZ)
    return np.stack([np.interp(source, grid, row) for row in np.atleast_2d(log_mel)])


def mel_cepstrum(log_mel: np.ndarray, order: int = 24) -> np.ndarray:
    """Mel-cepstral coefficients 1..order of a log-power mel envelope, scaled as a true
    cepstrum of the log amplitude (what SPTK's ``mcep`` gives, so mel-cepstral distortion
    lands on its usual scale); c0, the loudness, is left out."""
    from scipy.fft import dct

    log_amplitude = np.atleast_2d(log_mel) / 2.0
    c = dct(log_amplitude, type=2, axis=1) / (2 * log_amplitude.shape[1])
    return c[:, 1 : order + 1]


def mcd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mel-cepstral distortion (dB) between two envelopes, per frame."""
    d = mel_cepstrum(a) - mel_cepstrum(b)
    return 10.0 / np.log(10.0) * np.sqrt(2.0 * (d**2).sum(1))
