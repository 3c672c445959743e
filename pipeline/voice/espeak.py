"""eSpeak NG from the ``espeakng-loader`` wheel, through ctypes: text to speech with the
time of every phoneme (for lip sync and for the ground truth's shared timing).

The library is process-global and not thread-safe; it is initialised once, in
synchronous mode, with phoneme events on.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 22050  # eSpeak NG's output rate
_EVENT_END = 0  # espeak_EVENT_LIST_TERMINATED
_EVENT_PHONEME = 7
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_RATE_PARAM = 1  # espeakRATE: words per minute
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 1


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of the utterance
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),  # a phoneme event's mnemonic, packed
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class Speech:
    """Mono float32 samples in [-1, 1] and each phoneme's (start seconds, mnemonic)."""

    samples: np.ndarray
    rate: int
    phonemes: list[tuple[float, str]]

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


class _Engine:
    _lock = threading.Lock()
    _lib: ctypes.CDLL | None = None

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._phonemes: list[tuple[float, str]] = []
        self._callback = _CALLBACK(self._collect)  # kept alive: eSpeak holds the pointer

    @classmethod
    def library(cls) -> ctypes.CDLL:
        if cls._lib is None:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            lib.espeak_Initialize.restype = ctypes.c_int
            data = espeakng_loader.get_data_path().encode()
            if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INIT_PHONEME_EVENTS) <= 0:
                raise RuntimeError("eSpeak NG did not initialise from the espeakng-loader wheel")
            cls._lib = lib
        return cls._lib

    def _collect(self, wav, count, events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_END:
            e = events[i]
            if e.type == _EVENT_PHONEME:
                self._phonemes.append((e.audio_position / 1000.0, e.id.decode(errors="replace")))
            i += 1
        return 0

    def speak(self, text: str, voice: str, words_per_minute: int, seed: int) -> Speech:
        with self._lock:
            lib = self.library()
            lib.espeak_SetSynthCallback(self._callback)
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"eSpeak NG has no voice {voice!r}; try 'en' or 'en-us'")
            lib.espeak_SetParameter(_RATE_PARAM, int(words_per_minute), 0)
            # eSpeak draws noise and pitch jitter from rand(): seeded, the output is a
            # function of the text alone.
            lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
            data = text.encode() + b"\0"
            lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return Speech(samples.astype(np.float32) / 32768.0, RATE, list(self._phonemes))


def speak(text: str, voice: str = "en-us", words_per_minute: int = 160, seed: int = 0) -> Speech:
    """``text`` spoken by eSpeak NG's ``voice``: deterministic, about 500x real time."""
    return _Engine().speak(text, voice, words_per_minute, seed)


def speak_many(texts: list[str], voice: str = "en-us", words_per_minute: int = 160) -> list[Speech]:
    """The texts spoken in order by a fresh process, so the result depends on the list
    alone: eSpeak NG carries state from one utterance to the next (up to 0.4 % of the
    length, and the noise phase; ``espeak_ng_SetRandSeed`` does not reset it), so within
    one process the audio depends on what was spoken before, while a fresh process
    starts from the same state (checked: identical bytes)."""
    import json
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.npz"
        request = {"texts": list(texts), "voice": voice, "wpm": words_per_minute, "out": str(out)}
        subprocess.run(
            [sys.executable, "-m", "pipeline.voice.espeak"],
            input=json.dumps(request),
            text=True,
            check=True,
        )
        with np.load(out, allow_pickle=False) as z:
            return [
                Speech(
                    z[f"s{i}"], RATE, [(float(t), str(p)) for t, p in zip(z[f"t{i}"], z[f"p{i}"])]
                )
                for i in range(len(texts))
            ]


def _main() -> None:
    import json
    import sys

    request = json.load(sys.stdin)
    arrays = {}
    for i, text in enumerate(request["texts"]):
        s = speak(text, request["voice"], request["wpm"])
        arrays[f"s{i}"] = s.samples
        arrays[f"t{i}"] = np.array([t for t, _ in s.phonemes], np.float64)
        arrays[f"p{i}"] = np.array([p for _, p in s.phonemes], dtype="U8")
    np.savez(request["out"], **arrays)


if __name__ == "__main__":
    _main()
