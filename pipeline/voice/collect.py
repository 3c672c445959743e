"""Collect voices: each swap identity's speech as WORLD features (``features.py``).

Synthetic (the default): identity ``name`` with voice seed ``v`` reads
``voice.sentences`` sentences drawn from seed ``voice.sentence_seed + v``; the reading is
rendered to audio and analysed back, as a recording would be, so the model trains on
what analysis of real audio gives, vocoder round trip included.

Real footage (``data=folder``): every identity's consent record is checked first, then
its recordings are trimmed and checked (``recordings.py``).

Each speaker's folder also holds ``speech.wav``, the speech the features came from (16
kHz): the voice evaluation's reference for the speaker.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from omegaconf import DictConfig

from pipeline.collect.consent import check_consent
from pipeline.io.atomic import atomic_outputs
from pipeline.io.audio import to_int16, write_wav
from pipeline.paths import project_root
from pipeline.voice import speakers, world
from pipeline.voice.features import SpeakerSet
from pipeline.voice.recordings import recorded_speech
from pipeline.voice.sentences import sentences

SPEECH = "speech.wav"


def spectrogram_image(envelope: np.ndarray, height: int = 160) -> np.ndarray:
    """A log-power envelope (frames x mel bins) as a colour picture, low bins at the
    bottom, 60 dB of range."""
    db = envelope.T[::-1] * (10 / np.log(10))
    top = np.percentile(db, 99.5)
    grey = np.clip((db - (top - 60)) / 60 * 255, 0, 255).astype(np.uint8)
    grey = cv2.resize(grey, (grey.shape[1], height), interpolation=cv2.INTER_LINEAR)
    return cv2.applyColorMap(grey, cv2.COLORMAP_MAGMA)


def synthetic_speaker_speech(name: str, voice_seed: int, texts: list[str]):
    """(speaker, [(samples at world.RATE, features analysed from them)]) for ``texts``."""
    speaker = speakers.speaker_from_seed(name, voice_seed)
    out = []
    for _, base in speakers.base_readings(texts):
        audio = speakers.render(base, speaker)
        out.append((audio, world.analyse(audio)))
    return speaker, out


def write_speaker(folder: Path, name: str, utterances, info: dict) -> dict:
    """Write one speaker's folder (features, speaker.json, sample, spectrogram)."""
    folder.mkdir(parents=True)
    features = SpeakerSet.join(name, [f for _, f in utterances])
    features.save(folder)
    write_wav(folder / "sample.wav", to_int16(utterances[0][0]), world.RATE)
    speech = np.concatenate([samples for samples, _ in utterances])
    write_wav(folder / SPEECH, to_int16(speech), world.RATE)
    cv2.imwrite(str(folder / "spectrogram.png"), spectrogram_image(utterances[0][1].envelope))
    info = info | {
        "name": name,
        "utterances": len(features),
        "seconds": round(features.seconds, 2),
        "voiced_share": round(float((features.f0 > 0).mean()), 3),
        "rate": world.RATE,
        "frame_ms": world.FRAME_MS,
    }
    (folder / "speaker.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def collect_voices(
    data: DictConfig, voice: DictConfig, out: Path, bar=None, root: Path | None = None
) -> dict:
    """Every swap identity's voice into ``out``/<name>/; returns a summary per speaker.
    Real recordings' paths are relative to ``root`` (the project root)."""
    root = root or project_root()
    consent = {}
    if data.source == "folder":
        # Every consent is checked before any recording is read.
        consent = {ident.name: check_consent(root, ident) for ident in data.identities}
    summary = {}
    with atomic_outputs(out) as (tmp,):
        tmp.mkdir()
        for ident in data.identities:
            if data.source == "folder":
                utterances, tally = recorded_speech(root, ident, voice)
                info = {"source": "recordings", **consent[ident.name], **tally.as_dict()}
            else:
                texts = sentences(voice.sentence_seed + ident.voice, voice.sentences)
                speaker, utterances = synthetic_speaker_speech(ident.name, ident.voice, texts)
                info = {
                    "source": "synthetic",
                    "voice_seed": ident.voice,
                    "speaker": speaker.as_dict(),
                }
            summary[ident.name] = write_speaker(tmp / ident.name, ident.name, utterances, info)
            if bar is not None:
                bar.update(1)
    return summary
