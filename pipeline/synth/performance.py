"""Per-frame performance of a synthetic person: pose, expression, gaze, light, framing.

A performance is a dict of equal-length float32 arrays, one per name in ``FIELDS``.
Videos need smooth trajectories, so each channel is a sum of a few random sinusoids
whose frequencies stay below about 0.5 Hz, scaled into the channel's range.
"""

from __future__ import annotations

import numpy as np

# name -> (low, high) of the channel's range; angles in degrees.
FIELDS: dict[str, tuple[float, float]] = {
    "yaw": (-35.0, 35.0),
    "pitch": (-20.0, 20.0),
    "roll": (-15.0, 15.0),
    "mouth_open": (0.0, 1.0),
    "smile": (0.0, 1.0),
    "blink": (0.0, 1.0),
    "gaze_x": (-1.0, 1.0),
    "gaze_y": (-1.0, 1.0),
    "light_azimuth": (-70.0, 70.0),
    "light_elevation": (-20.0, 60.0),
    "light_warmth": (-1.0, 1.0),
    "light_intensity": (0.7, 1.15),
    "scale": (0.85, 1.15),
    "shift_x": (-0.08, 0.08),
    "shift_y": (-0.06, 0.06),
}

Performance = dict[str, np.ndarray]


def performance_length(perf: Performance) -> int:
    return len(next(iter(perf.values())))


def frame_of(perf: Performance, i: int) -> dict[str, float]:
    """The performance values of frame ``i`` as plain floats."""
    return {k: float(v[i]) for k, v in perf.items()}


def _smooth_channel(rng: np.random.Generator, t: np.ndarray, max_hz: float) -> np.ndarray:
    """A smooth signal in [-1, 1]: a few sinusoids, normalised by their amplitude sum."""
    n = 3
    freqs = rng.uniform(0.05, max_hz, n)
    phases = rng.uniform(0, 2 * np.pi, n)
    amps = rng.uniform(0.3, 1.0, n)
    s = (amps[:, None] * np.sin(2 * np.pi * freqs[:, None] * t[None] + phases[:, None])).sum(0)
    return s / amps.sum()


def _blinks(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Short eyelid closures (~0.2 s) every 2-6 s, as people blink."""
    out = np.zeros_like(t)
    when = rng.uniform(0, 3.0)
    while when < t[-1] + 1:
        out = np.maximum(out, np.clip(1 - np.abs(t - when) / 0.1, 0, 1))
        when += rng.uniform(2.0, 6.0)
    return out


def smooth_performance(seed: int, n_frames: int, fps: float = 25.0) -> Performance:
    """A video-like performance: every channel moves smoothly through its range."""
    rng = np.random.default_rng([seed, 0x9E])
    t = np.arange(n_frames, dtype=np.float64) / fps
    perf: Performance = {}
    for name, (lo, hi) in FIELDS.items():
        if name == "blink":
            s01 = _blinks(rng, t)
        elif name in ("mouth_open", "smile"):
            # Mostly closed/neutral with excursions, as in speech.
            s01 = np.clip(_smooth_channel(rng, t, 0.6) * 1.3, 0, 1)
        else:
            s01 = (_smooth_channel(rng, t, 0.35) + 1) / 2
        perf[name] = (lo + (hi - lo) * s01).astype(np.float32)
    return perf


def random_performance(seed: int, n_frames: int) -> Performance:
    """Independent frames covering every channel's whole range (for training sets)."""
    rng = np.random.default_rng([seed, 0x5A])
    perf: Performance = {}
    for name, (lo, hi) in FIELDS.items():
        u = rng.uniform(0, 1, n_frames)
        if name == "blink":
            u = np.where(rng.uniform(0, 1, n_frames) < 0.15, u, 0.0)
        elif name in ("mouth_open", "smile"):
            u = np.where(rng.uniform(0, 1, n_frames) < 0.6, u, 0.0)
        perf[name] = (lo + (hi - lo) * u).astype(np.float32)
    return perf
