"""A generated soundtrack, so target clips are real videos with an audio track."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def soundtrack(seconds: float, base_hz: float, seed: int, rate: int = 48000) -> np.ndarray:
    """Mono int16 samples: a slow melody of soft tones, deterministic from ``seed``."""
    rng = np.random.default_rng([seed, 0xA0])
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    note_len = 0.4
    steps = rng.choice([0, 2, 4, 5, 7, 9, 12], size=int(np.ceil(seconds / note_len)) + 1)
    freq = base_hz * 2 ** (steps[(t / note_len).astype(int)] / 12)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    envelope = np.minimum(1, (t % note_len) / 0.02) * np.exp(-(t % note_len) * 4)
    signal = 0.3 * envelope * (np.sin(phase) + 0.3 * np.sin(2 * phase))
    return np.round(signal * 32767).astype(np.int16)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = 48000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16 (clipped)."""
    return np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """``x`` from ``rate_in`` to ``rate_out`` by polyphase filtering (itself when equal)."""
    if int(rate_in) == int(rate_out):
        return x
    # Imported here: scipy.signal takes 0.7 s to import, which a voice conversion worker
    # (its audio already at the rate it needs) should not pay.
    from scipy.signal import resample_poly

    g = np.gcd(int(rate_in), int(rate_out))
    return resample_poly(x, int(rate_out) // g, int(rate_in) // g)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV's samples as float32 in [-1, 1] (channels averaged) and its rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path} is not 16-bit PCM")
        rate, channels = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
    return x.reshape(-1, channels).mean(1), rate


def _pcm_command(path, rate: int, start: float = 0.0, seconds: float | None = None) -> list:
    """ffmpeg writing a file's first audio track to stdout as mono s16le at ``rate``."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin"]
    if start:
        cmd += ["-ss", f"{start:.6f}"]
    cmd += ["-i", str(path)]
    if seconds is not None:
        cmd += ["-t", f"{seconds:.6f}"]
    return cmd + ["-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"]


def _reason(stderr: bytes, returncode: int) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"ffmpeg exited with {returncode}"


def decode_audio(path: str | Path, rate: int, start: float = 0.0, seconds: float | None = None):
    """A media file's first audio track, mono float32 at ``rate``, through ffmpeg; the
    span from ``start`` for ``seconds`` (all of it when None). Raises ValueError with
    ffmpeg's reason when the file has no readable audio."""
    import subprocess

    done = subprocess.run(_pcm_command(path, rate, start, seconds), capture_output=True)
    if done.returncode != 0:
        raise ValueError(_reason(done.stderr, done.returncode))
    return np.frombuffer(done.stdout, np.int16).astype(np.float32) / 32768


class AudioStream:
    """A media file's first audio track, mono float32 at ``rate``, read in pieces from one
    ffmpeg process: one decode for the whole file, memory flat however long it is."""

    def __init__(self, path: str | Path, rate: int):
        import subprocess
        import tempfile

        # ffmpeg's messages go to a file: a pipe read only at the end would fill on a long,
        # damaged file and stall ffmpeg while we wait for its samples.
        self.errors = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            _pcm_command(path, rate), stdout=subprocess.PIPE, stderr=self.errors
        )

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples (fewer at the end). Raises ValueError with ffmpeg's
        reason when the track cannot be read."""
        data = self.proc.stdout.read(2 * n) if n > 0 else b""
        if len(data) < 2 * n:  # the end, or an error: say which
            self.proc.wait()
            if self.proc.returncode != 0:
                self.errors.seek(0)
                raise ValueError(_reason(self.errors.read(), self.proc.returncode))
        return np.frombuffer(data[: len(data) // 2 * 2], np.int16).astype(np.float32) / 32768

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.errors.close()
